//! Times the phases of a draw over N synthetic candidates in memory (no
//! database): `cargo run --release -p hongdun-core --example draw_phases -- 10000000`.
//! Used by bench/README.md to say where a province-scale draw spends its time.
use hongdun_core::inspection::{draw_set, Candidate, CandidateSet, PoolInspector, Sampling};
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
    let set = CandidateSet::from_candidates(&candidates);
    drop(candidates);
    println!("compact set: {:?}", t.elapsed());
    let t = Instant::now();
    let order = set.canonical_order().unwrap();
    println!(
        "canonical order (packed keys, all cores): {:?}",
        t.elapsed()
    );
    let t = Instant::now();
    let text = set.canonical_text(&order);
    println!(
        "canonical text ({} MiB): {:?}",
        text.len() >> 20,
        t.elapsed()
    );
    drop((order, text));
    let s = Sampler::new("20261123");
    let t = Instant::now();
    let keys = s.keys(&set);
    println!("tickets (keys, all cores): {:?}", t.elapsed());
    drop(keys);
    let t = Instant::now();
    let big = "x".repeat(200 << 20);
    let _ = sha256_hex(&big);
    println!("sha256 of 200 MiB: {:?}", t.elapsed());
    let sampling = Sampling::Ratio {
        ratios: [
            ("A".into(), 50),
            ("B".into(), 100),
            ("C".into(), 300),
            ("D".into(), 1000),
        ]
        .into(),
    };
    let inspectors: Vec<PoolInspector> = (0..20)
        .map(|i| PoolInspector {
            cert_no: format!("3310239{i:04}"),
            grid: Some(format!("331023-amr-g{:03}-1", i)),
            conflicts: Default::default(),
        })
        .collect();
    let t = Instant::now();
    let (d, list) = draw_set("20261123", &sampling, 2, &set, &inspectors).unwrap();
    println!(
        "whole draw: {:?} ({} picks, list {} MiB)",
        t.elapsed(),
        d.outcome.picks.len(),
        list.len() >> 20
    );
}
