//! Complaints and reports (12315) on SQLite and on PostgreSQL.
hongdun_testkit::on_both_backends!(complaint =>
    complaint_workflow,
    generated_year_of_complaints,
);
