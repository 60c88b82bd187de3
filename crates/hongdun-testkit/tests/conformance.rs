//! Every conformance case on SQLite and on PostgreSQL.
hongdun_testkit::on_both_backends!(conformance =>
    bootstrap_is_idempotent,
    divisions_tree,
    units_and_jurisdiction,
    users_scope_and_conflicts,
    metacharacters_are_verbatim,
    audit_chain_and_tampering,
    audit_detects_deleted_rows,
    concurrent_writes_keep_the_chain,
    audit_scope,
    login_failures_lock,
    sessions_expire,
    tokens,
    dictionaries_and_settings,
    holiday_years,
    login_log_scope,
);
