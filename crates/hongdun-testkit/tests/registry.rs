//! The register on SQLite and on PostgreSQL.
hongdun_testkit::on_both_backends!(registry =>
    upsert_history_and_idempotence,
    chinese_search,
    entities_are_routed_and_scoped,
    import_bad_rows_and_encodings,
    duplicates_found_after_the_check_spills,
    an_unwritable_spill_stops_the_import_cleanly,
    public_answers_hold_nothing_personal,
    staff_api_scope_and_export,
    upload_and_progress,
    import_history,
    import_xlsx,
    import_xls,
    import_either_code_column,
    licence_watch_lists,
    generated_world_with_licences,
    a_first_load_answers_registry_loading,
);
