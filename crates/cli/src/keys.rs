//! `vigie key rotate`: a new encryption key in front of the key file, then every sealed value
//! sealed again under it in one transaction (audited). The file is written first, atomically,
//! with every older key kept: at any moment each stored value opens with a key of the file.

use clap::{ArgMatches, Command};
use std::path::Path;
use std::process::ExitCode;
use vigie_domain::Lang;
use vigie_storage::crypto::Keyring;

fn t(lang: Lang, fr: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Fr {
        fr
    } else {
        en
    }
}

pub fn command(lang: Lang) -> Command {
    Command::new("key")
        .about(t(lang, "Clés de chiffrement (fichier de clés)", "Encryption keys (key file)"))
        .subcommand_required(true)
        .subcommand(Command::new("rotate").about(t(
            lang,
            "Nouvelle clé ; rechiffre toutes les valeurs scellées en une transaction ; les anciennes clés restent dans le fichier",
            "New key; re-seals every sealed value in one transaction; older keys stay in the file",
        )))
}

/// Writes the key file through a temporary file and a rename, so a crash leaves the old file or the new one.
fn write_atomically(keys: &Keyring, path: &Path) -> std::io::Result<()> {
    let tmp = path.with_extension("key.new");
    keys.write(&tmp)?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

pub async fn run(lang: Lang, db_url: &str, key_file: &Path, m: &ArgMatches) -> anyhow::Result<ExitCode> {
    match m.subcommand() {
        Some(("rotate", _)) => {
            let old = Keyring::parse(&std::fs::read_to_string(key_file).map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?;
            let db = vigie_storage::Db::connect_and_migrate(db_url).await?;
            let new = old.rotated();
            write_atomically(&new, key_file)?;
            let db = db.with_keys(new.clone());
            let r = vigie_storage::rotation::reseal_all(&db, &new, &vigie_storage::audit::Actor::system("cli")).await?;
            let stale = vigie_storage::rotation::stale_count(&db, &new).await?;
            db.close().await;
            if stale != 0 {
                anyhow::bail!("{stale} sealed values still under an older key");
            }
            let (fr, en) = (
                format!("Nouvelle clé {} ; {} valeur(s) rechiffrée(s) ; anciennes clés conservées dans {}", r.new_key_id, r.total(), key_file.display()),
                format!("New key {}; {} value(s) re-sealed; older keys kept in {}", r.new_key_id, r.total(), key_file.display()),
            );
            println!("{}", if lang == Lang::Fr { fr } else { en });
            for (col, n) in &r.resealed {
                println!("  {col}: {n}");
            }
            for (col, n) in r.sealed_from_clear.iter().filter(|(_, n)| **n > 0) {
                println!("  {col}: {n} {}", t(lang, "(en clair, scellée(s))", "(in clear, sealed)"));
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => unreachable!("subcommand required"),
    }
}
