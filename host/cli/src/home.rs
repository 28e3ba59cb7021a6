//! Where weft keeps its data.

use std::path::PathBuf;

use anyhow::{Context, Result};

/// `--home` / `$WEFT_HOME`, else the per-user data directory.
pub fn resolve(explicit: Option<PathBuf>) -> Result<PathBuf> {
    let home = match explicit {
        Some(p) => p,
        None => directories::ProjectDirs::from("dev", "weft", "weft")
            .map(|d| d.data_dir().to_owned())
            .context("cannot find a home directory; set WEFT_HOME or pass --home")?,
    };
    std::fs::create_dir_all(&home)
        .with_context(|| format!("cannot create WEFT_HOME {}", home.display()))?;
    Ok(home)
}
