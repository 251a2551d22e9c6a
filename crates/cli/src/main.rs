//! `vigie`: the one binary. Wires configuration, storage and the server.

mod bench_generate;
mod cli;
mod commands;
mod config;
mod demo;
mod ew_cli;
mod rules_cli;
mod demo_governance;
mod governance_import;
mod keys;
mod demo_cases;
mod demo_results;
mod results_cmd;

fn main() -> std::process::ExitCode {
    let lang = cli::lang_from_env_and_args();
    let matches = cli::command(lang).get_matches();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(commands::run(lang, matches)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}: {e:#}", if lang == vigie_domain::Lang::Fr { "erreur" } else { "error" });
            std::process::ExitCode::from(2)
        }
    }
}
