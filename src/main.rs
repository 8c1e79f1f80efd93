//! The `cordon` binary: parses arguments and hands over to `cordon::cli`.
fn main() -> std::process::ExitCode {
    cordon::cli::main()
}
