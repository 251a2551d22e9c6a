//! Settings: command-line flags win, then environment variables (`VIGIE_*`), then
//! `vigie.toml`, then defaults. Secrets (database passwords) are never printed.

use anyhow::Context;
use clap::ArgMatches;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub db: Option<String>,
    pub db_read: Option<String>,
    pub key_file: Option<String>,
    pub addr: Option<String>,
    pub secure_cookies: Option<bool>,
    pub session_hours: Option<i64>,
    pub body_limit_bytes: Option<usize>,
}

pub fn load_file(m: &ArgMatches) -> anyhow::Result<FileConfig> {
    let explicit = m.get_one::<String>("config").cloned();
    let path = explicit.clone().unwrap_or_else(|| "vigie.toml".into());
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("{path}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => Ok(FileConfig::default()),
        Err(e) => Err(e).with_context(|| path),
    }
}

/// `flag or env` (clap already merged those), then the file, then the default.
pub fn pick(m: &ArgMatches, id: &str, file: Option<String>, default: &str) -> String {
    m.try_get_one::<String>(id).ok().flatten().cloned().or(file).unwrap_or_else(|| default.to_string())
}

/// A database URL fit for logs: the password, if any, replaced.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***@{}", &url[..s], &url[at + 1..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("postgres://vigie:s3cret@db:5432/vigie"), "postgres://vigie:***@db:5432/vigie");
        assert_eq!(super::redact("sqlite:vigie.db"), "sqlite:vigie.db");
    }
}
