//! `terrane`: a thin binary. It parses arguments, wires the engine, the state store and the
//! providers together, and renders what they return.

mod cli;

fn main() {
    let code = cli::run(std::env::args().collect());
    std::process::exit(code);
}
