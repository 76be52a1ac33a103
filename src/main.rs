//! The `booth` binary: hands the command line to [`booth::cli`].
fn main() -> std::process::ExitCode {
    booth::cli::main()
}
