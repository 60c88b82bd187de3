//! 食安在线 (delivery seals, sunshine kitchens) on SQLite and on PostgreSQL.
hongdun_testkit::on_both_backends!(food =>
    seal_lifecycle,
    kitchen_online_rates,
);
