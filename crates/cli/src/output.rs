//! How results are printed.

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// For people: aligned text.
    Text,
    /// For programs: one JSON document.
    Json,
}
