//! The HTTP API through a real server, on SQLite and on PostgreSQL.
hongdun_testkit::on_both_backends!(api =>
    login_cookie_and_me,
    wrong_password_locks_account,
    csrf_is_required,
    password_change,
    data_scope,
    custom_role_scope,
    api_tokens,
    calendar_endpoints,
    audit_over_http,
    text_is_verbatim_over_http,
    no_secrets_in_responses,
    operations_endpoints,
);
