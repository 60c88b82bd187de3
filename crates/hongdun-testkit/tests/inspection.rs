//! Random inspections and the hazard loop on SQLite and on PostgreSQL.
hongdun_testkit::on_both_backends!(inspection =>
    draw_publish_and_hazard_loop,
    generated_year_of_inspections,
    candidates_read_once,
    draw_tasks_keep_their_teams,
);
