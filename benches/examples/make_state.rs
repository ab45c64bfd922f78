//! Makes DIR/main.tf with N terraform_data resources and applies it, for measurements.
//! Usage: cargo run --release -p terrane-benches --example make_state -- DIR N

use terrane_benches::*;

fn main() {
    let mut a = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(a.next().expect("DIR"));
    let n: usize = a.next().expect("N").parse().expect("N is a number");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.tf"), terraform_data_config(n)).unwrap();
    let store = terrane_state::Store::open(&dir.join("terrane.state.db")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = rt.block_on(apply(&dir, &store, &registry(), 10));
    println!("applied {} resources into {}", out.added, dir.display());
}
