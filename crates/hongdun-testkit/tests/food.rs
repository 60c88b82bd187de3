//! 食安在线 (delivery seals, sunshine kitchens, AI capture alerts, sampling
//! tests) on SQLite and on PostgreSQL.
hongdun_testkit::on_both_backends!(food =>
    seal_lifecycle,
    kitchen_online_rates,
);

mod checks {
    hongdun_testkit::on_both_backends!(food_check =>
        alert_triage_loop,
        sampling_lifecycle,
        demo_food_year,
    );
}
