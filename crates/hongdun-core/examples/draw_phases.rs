//! Times the phases of a draw over N synthetic candidates in memory (no
//! database): `cargo run --release -p hongdun-core --example draw_phases -- 10000000`.
//! Used by bench/README.md to say where a province-scale draw spends its time.
use hongdun_core::inspection::{
    canonical_order, draw_with_list, Candidate, DrawInput, PoolInspector, Sampling,
};
use hongdun_core::sampling::{sha256_hex, Sampler};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let t = Instant::now();
    let candidates: Vec<Candidate> = (0..n)
        .map(|i| Candidate {
            id: format!("9{}331023MA{:07}X", i % 3, i),
            class: [
                "A", "A", "A", "A", "B", "B", "B", "B", "B", "B", "B", "B", "B", "B", "B", "B",
                "C", "C", "C", "D",
            ][i % 20]
                .into(),
            grid: Some(format!("331023-amr-g{:03}-1", i % 15)),
        })
        .collect();
    println!("build {n} candidates: {:?}", t.elapsed());
    let t = Instant::now();
    let order = canonical_order(&candidates).unwrap();
    println!("canonical order: {:?}", t.elapsed());
    drop(order);
    let s = Sampler::new("20261123");
    let ids: Vec<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
    let t = Instant::now();
    let keys = s.keys(&ids);
    println!("tickets (keys, all cores): {:?}", t.elapsed());
    drop(keys);
    let t = Instant::now();
    let big = "x".repeat(200 << 20);
    let _ = sha256_hex(&big);
    println!("sha256 of 200 MiB: {:?}", t.elapsed());
    let input = DrawInput {
        seed: "20261123".into(),
        sampling: Sampling::Ratio {
            ratios: [
                ("A".into(), 50),
                ("B".into(), 100),
                ("C".into(), 300),
                ("D".into(), 1000),
            ]
            .into(),
        },
        team_size: 2,
        candidates,
        inspectors: (0..20)
            .map(|i| PoolInspector {
                cert_no: format!("3310239{i:04}"),
                grid: Some(format!("331023-amr-g{:03}-1", i)),
                conflicts: Default::default(),
            })
            .collect(),
    };
    let t = Instant::now();
    let (outcome, list) = draw_with_list(&input).unwrap();
    println!(
        "whole draw: {:?} ({} picks, list {} MiB)",
        t.elapsed(),
        outcome.picks.len(),
        list.len() >> 20
    );
}
