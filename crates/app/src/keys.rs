//! `lantern keys`: which master-key generation seals what, rotation and
//! retirement, while servers keep running.
//!
//! Rotation adds a generation to `DATA_DIR/keys/master.key` (running servers
//! notice it: see `lantern_vault::Keyring`), re-seals the ledger signing key
//! and every sealed value in the database under it, a page per short
//! transaction. Retiring removes an old generation from the file once
//! nothing uses it.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context};
use lantern_store::Store;
use lantern_vault::Keyring;

use crate::ledger;

fn key_file(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("keys").join("master.key")
}

/// The generation the ledger signing key is sealed under.
fn signer_generation(data_dir: &Path) -> anyhow::Result<Option<u32>> {
    let path = data_dir.join("keys").join("ledger.key");
    if !path.exists() {
        return Ok(None);
    }
    let sealed = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Keyring::generation_of(&sealed))
}

/// A report of the generations held and what each seals.
pub fn status(data_dir: &Path, keys: &Keyring, store: &dyn Store) -> anyhow::Result<String> {
    let mut out = String::new();
    writeln!(
        out,
        "Generations in {}: {:?} (new values are sealed under {}).",
        key_file(data_dir).display(),
        keys.generations(),
        keys.current_generation()
    )?;
    if let Some(g) = signer_generation(data_dir)? {
        writeln!(out, "ledger signing key: generation {g}")?;
    }
    for u in store.key_usage()? {
        writeln!(
            out,
            "{}: {} value(s) under generation {}",
            u.table, u.values, u.generation
        )?;
    }
    Ok(out)
}

/// Adds a generation, saves the key file, and re-seals the signing key and
/// every sealed value under it; returns a report.
pub fn rotate(data_dir: &Path, origin: &str, keys: &Keyring, store: &dyn Store) -> anyhow::Result<String> {
    let generation = keys.rotate()?;
    keys.save(&key_file(data_dir))?;
    ledger::reseal_signer(data_dir, keys, origin)?;
    let resealed = store.reseal()?;
    Ok(format!(
        "Generation {generation} added and now seals new values; {resealed} value(s) and the ledger signing key \
         re-sealed under it.\nBack up {} again now: the copies made before hold no generation {generation}, and \
         values sealed from now on cannot be read without it. Once no value needs an older generation, \
         `lantern keys retire GEN` removes it.\n",
        key_file(data_dir).display()
    ))
}

/// Removes a generation nothing is sealed under any more.
pub fn retire(data_dir: &Path, keys: &Keyring, store: &dyn Store, generation: u32) -> anyhow::Result<String> {
    let users: Vec<String> = store
        .key_usage()?
        .into_iter()
        .filter(|u| u.generation == generation)
        .map(|u| format!("{} ({})", u.table, u.values))
        .collect();
    if !users.is_empty() {
        bail!(
            "generation {generation} still seals values in {}; run `lantern keys rotate` (or re-seal) first",
            users.join(", ")
        );
    }
    if signer_generation(data_dir)? == Some(generation) {
        bail!("generation {generation} still seals the ledger signing key; run `lantern keys rotate` first");
    }
    keys.retire(generation)?;
    keys.save(&key_file(data_dir))?;
    Ok(format!(
        "Generation {generation} removed from {}. Keep the backups that hold it as long as the backups of the \
         database made before the rotation.\n",
        key_file(data_dir).display()
    ))
}
