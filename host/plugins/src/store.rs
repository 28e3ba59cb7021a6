//! Installing, finding, loading and removing plugins on disk.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use weft_runtime::{LoadError, LoadedPlugin, Runtime, read_contract};

use crate::{Manifest, PluginSpec};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("cannot {action} {}: {error}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The component is not a valid plugin.
    #[error("{file}: {error}")]
    Invalid {
        /// The file being installed, or the installed plugin.
        file: String,
        /// Why.
        error: LoadError,
    },
    /// Nothing installed matches.
    #[error("plugin {spec} is not installed{}", installed_hint(.installed))]
    NotInstalled {
        /// What was asked for.
        spec: PluginSpec,
        /// Versions of that name that are installed.
        installed: Vec<String>,
    },
    /// Same name and version, different bytes.
    #[error(
        "{id} is already installed from a different binary (installed sha256 {installed}, \
         this file {new}); bump the plugin's version, or pass --force to replace it"
    )]
    Conflict {
        /// `name@version`.
        id: String,
        /// sha256 of the installed binary.
        installed: String,
        /// sha256 of the new one.
        new: String,
    },
    /// Several versions and no version given, where that matters.
    #[error("several versions of {name} are installed ({}); name one as {name}@<version>, or pass --all-versions", .versions.join(", "))]
    Ambiguous {
        /// The name.
        name: String,
        /// The installed versions.
        versions: Vec<String>,
    },
    /// A manifest cannot be read: the store was edited by hand or damaged.
    #[error("{}: damaged manifest ({reason}); reinstall the plugin", path.display())]
    Damaged {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

fn installed_hint(installed: &[String]) -> String {
    if installed.is_empty() {
        "; see `weft plugin list`".to_owned()
    } else {
        format!(" (installed: {})", installed.join(", "))
    }
}

/// What `install` did.
#[derive(Debug, Clone, PartialEq)]
pub enum InstallOutcome {
    /// Newly installed.
    Installed(Manifest),
    /// The same bytes were already installed; nothing changed.
    Unchanged(Manifest),
    /// A different binary under the same name and version was replaced
    /// (`--force`).
    Replaced(Manifest),
}

impl InstallOutcome {
    /// The manifest of the plugin now installed.
    pub fn manifest(&self) -> &Manifest {
        match self {
            Self::Installed(m) | Self::Unchanged(m) | Self::Replaced(m) => m,
        }
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_owned();
    move |error| StoreError::Io {
        action,
        path,
        error,
    }
}

/// The plugin store under a `WEFT_HOME`.
#[derive(Debug, Clone)]
pub struct PluginStore {
    home: PathBuf,
    runtime: Runtime,
}

impl PluginStore {
    /// A store rooted at `home` (created when missing), loading plugins
    /// into `runtime`.
    ///
    /// # Errors
    /// When the directories cannot be created.
    pub fn open(home: impl Into<PathBuf>, runtime: Runtime) -> Result<Self, StoreError> {
        let home = home.into();
        let plugins = home.join("plugins");
        fs::create_dir_all(&plugins).map_err(io("create", &plugins))?;
        Ok(Self { home, runtime })
    }

    /// The runtime plugins are loaded into.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    fn plugins_dir(&self) -> PathBuf {
        self.home.join("plugins")
    }

    fn plugin_dir(&self, name: &str, version: &semver::Version) -> PathBuf {
        self.plugins_dir().join(name).join(version.to_string())
    }

    fn artifact_path(&self, sha256: &str) -> PathBuf {
        self.home
            .join("cache")
            .join(self.runtime.engine_key())
            .join(format!("{sha256}.cwasm"))
    }

    /// Installs a component. `file` names it in messages.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] naming what is wrong with the component,
    /// [`StoreError::Conflict`] for a different binary under an installed
    /// name and version without `force`, I/O errors.
    pub async fn install(
        &self,
        file: &str,
        wasm: &[u8],
        force: bool,
    ) -> Result<InstallOutcome, StoreError> {
        let invalid = |error| StoreError::Invalid {
            file: file.to_owned(),
            error,
        };
        let sha256 = Runtime::sha256(wasm);
        // The contract comes first: it is cheap and its message is the
        // clearest when someone installs the wrong file.
        let contract = read_contract(wasm).map_err(|e| invalid(e.into()))?;
        let artifact = self.runtime.precompile(wasm).map_err(invalid)?;
        let plugin = self
            .runtime
            .load_precompiled(&sha256, contract.clone(), &artifact)
            .await
            .map_err(invalid)?;
        let info = plugin.info().clone();
        let version = semver::Version::parse(info.version()).map_err(|e| {
            invalid(LoadError::Invalid(vec![format!(
                "version '{}': {e}",
                info.version()
            )]))
        })?;
        let manifest = Manifest {
            name: info.name().to_owned(),
            version: version.clone(),
            kind: contract.kind,
            contract: contract.version,
            sha256: sha256.clone(),
            size: wasm.len() as u64,
            installed_at: OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .unwrap_or_default(),
            info,
        };
        let dir = self.plugin_dir(&manifest.name, &version);
        let existing = self.read_manifest(&dir.join("manifest.json")).ok();
        if let Some(existing) = &existing {
            if existing.sha256 == sha256 {
                self.write_artifact(&sha256, &artifact)?;
                return Ok(InstallOutcome::Unchanged(existing.clone()));
            }
            if !force {
                return Err(StoreError::Conflict {
                    id: existing.id(),
                    installed: existing.sha256.clone(),
                    new: sha256,
                });
            }
        }
        self.write_artifact(&sha256, &artifact)?;
        self.write_plugin_dir(&dir, wasm, &manifest)?;
        tracing::info!(plugin = %manifest.id(), sha256 = %sha256, "plugin installed");
        Ok(if existing.is_some() {
            InstallOutcome::Replaced(manifest)
        } else {
            InstallOutcome::Installed(manifest)
        })
    }

    /// Writes the plugin's directory next to its final place and renames it
    /// in, so readers see the old plugin or the new one, never half of one.
    fn write_plugin_dir(
        &self,
        dir: &Path,
        wasm: &[u8],
        manifest: &Manifest,
    ) -> Result<(), StoreError> {
        let parent = dir.parent().unwrap_or(&self.home);
        fs::create_dir_all(parent).map_err(io("create", parent))?;
        let staging = tempfile::Builder::new()
            .prefix(".installing-")
            .tempdir_in(parent)
            .map_err(io("create a staging directory in", parent))?;
        let wasm_path = staging.path().join("plugin.wasm");
        write_synced(&wasm_path, wasm)?;
        let manifest_path = staging.path().join("manifest.json");
        let text = serde_json::to_vec_pretty(manifest).map_err(|e| StoreError::Damaged {
            path: manifest_path.clone(),
            reason: e.to_string(),
        })?;
        write_synced(&manifest_path, &text)?;
        if dir.exists() {
            let retired = tempfile::Builder::new()
                .prefix(".replaced-")
                .tempdir_in(parent)
                .map_err(io("create a staging directory in", parent))?;
            let old = retired.path().join("old");
            fs::rename(dir, &old).map_err(io("move aside", dir))?;
            fs::rename(staging.keep(), dir).map_err(io("install into", dir))?;
            drop(retired);
        } else {
            fs::rename(staging.keep(), dir).map_err(io("install into", dir))?;
        }
        Ok(())
    }

    fn write_artifact(&self, sha256: &str, artifact: &[u8]) -> Result<(), StoreError> {
        let path = self.artifact_path(sha256);
        let dir = path.parent().unwrap_or(&self.home).to_owned();
        fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        let sum = Runtime::sha256(artifact);
        for (target, bytes) in [(&path, artifact), (&sum_path(&path), sum.as_bytes())] {
            let mut tmp =
                tempfile::NamedTempFile::new_in(&dir).map_err(io("create a file in", &dir))?;
            tmp.write_all(bytes).map_err(io("write", target))?;
            tmp.as_file().sync_all().map_err(io("sync", target))?;
            tmp.persist(target).map_err(|e| StoreError::Io {
                action: "write",
                path: target.clone(),
                error: e.error,
            })?;
        }
        Ok(())
    }

    fn read_manifest(&self, path: &Path) -> Result<Manifest, StoreError> {
        let text = fs::read(path).map_err(io("read", path))?;
        serde_json::from_slice(&text).map_err(|e| StoreError::Damaged {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Every installed plugin, by name then version.
    ///
    /// # Errors
    /// I/O errors and damaged manifests.
    pub fn list(&self) -> Result<Vec<Manifest>, StoreError> {
        let root = self.plugins_dir();
        let mut out = Vec::new();
        for name in read_dirs(&root)? {
            for version in read_dirs(&name)? {
                let path = version.join("manifest.json");
                if path.exists() {
                    out.push(self.read_manifest(&path)?);
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version)));
        Ok(out)
    }

    fn versions_of(&self, name: &str) -> Result<Vec<Manifest>, StoreError> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|m| m.name == name)
            .collect())
    }

    /// The installed plugin `spec` means: the exact version, or the newest.
    ///
    /// # Errors
    /// [`StoreError::NotInstalled`] naming the versions that are installed.
    pub fn find(&self, spec: &PluginSpec) -> Result<Manifest, StoreError> {
        let versions = self.versions_of(&spec.name)?;
        let found = match &spec.version {
            Some(v) => versions.iter().find(|m| &m.version == v).cloned(),
            None => versions.last().cloned(),
        };
        found.ok_or_else(|| StoreError::NotInstalled {
            spec: spec.clone(),
            installed: versions.iter().map(Manifest::id).collect(),
        })
    }

    /// Loads an installed plugin into the runtime, from its precompiled
    /// artifact (precompiling again when this weft build has none, or when
    /// the artifact fails its checksum).
    ///
    /// # Errors
    /// [`StoreError::NotInstalled`], I/O errors, or a component that no
    /// longer matches its recorded sha256.
    pub async fn load(&self, spec: &PluginSpec) -> Result<Arc<LoadedPlugin>, StoreError> {
        let manifest = self.find(spec)?;
        let contract = weft_runtime::ComponentContract {
            kind: manifest.kind,
            version: manifest.contract.clone(),
        };
        let invalid = |error| StoreError::Invalid {
            file: manifest.id(),
            error,
        };
        let path = self.artifact_path(&manifest.sha256);
        if let Some(artifact) = read_verified(&path) {
            return self
                .runtime
                .load_precompiled(&manifest.sha256, contract, &artifact)
                .await
                .map_err(invalid);
        }
        let wasm_path = self
            .plugin_dir(&manifest.name, &manifest.version)
            .join("plugin.wasm");
        let wasm = fs::read(&wasm_path).map_err(io("read", &wasm_path))?;
        if Runtime::sha256(&wasm) != manifest.sha256 {
            return Err(StoreError::Damaged {
                path: wasm_path,
                reason: "its sha256 no longer matches the one recorded at install".into(),
            });
        }
        tracing::info!(plugin = %manifest.id(), "precompiling for this weft build");
        let artifact = self.runtime.precompile(&wasm).map_err(invalid)?;
        self.write_artifact(&manifest.sha256, &artifact)?;
        self.runtime
            .load_precompiled(&manifest.sha256, contract, &artifact)
            .await
            .map_err(invalid)
    }

    /// Removes `spec`. Without a version, the only installed version, or
    /// every version with `all_versions`.
    ///
    /// # Errors
    /// [`StoreError::NotInstalled`], [`StoreError::Ambiguous`], I/O errors.
    pub fn remove(
        &self,
        spec: &PluginSpec,
        all_versions: bool,
    ) -> Result<Vec<Manifest>, StoreError> {
        let versions = self.versions_of(&spec.name)?;
        let doomed: Vec<Manifest> = match &spec.version {
            Some(_) => vec![self.find(spec)?],
            None if versions.is_empty() => {
                return Err(StoreError::NotInstalled {
                    spec: spec.clone(),
                    installed: Vec::new(),
                });
            }
            None if versions.len() > 1 && !all_versions => {
                return Err(StoreError::Ambiguous {
                    name: spec.name.clone(),
                    versions: versions.iter().map(|m| m.version.to_string()).collect(),
                });
            }
            None => versions,
        };
        for m in &doomed {
            let dir = self.plugin_dir(&m.name, &m.version);
            fs::remove_dir_all(&dir).map_err(io("remove", &dir))?;
            let still_used = self.list()?.iter().any(|o| o.sha256 == m.sha256);
            if !still_used {
                let artifact = self.artifact_path(&m.sha256);
                let _ = fs::remove_file(sum_path(&artifact));
                let _ = fs::remove_file(&artifact);
            }
        }
        let name_dir = self.plugins_dir().join(&spec.name);
        if read_dirs(&name_dir).map(|d| d.is_empty()).unwrap_or(false) {
            let _ = fs::remove_dir_all(&name_dir);
        }
        Ok(doomed)
    }
}

fn sum_path(artifact: &Path) -> PathBuf {
    let mut p = artifact.as_os_str().to_owned();
    p.push(".sha256");
    PathBuf::from(p)
}

/// The artifact, if present and matching its recorded checksum.
fn read_verified(path: &Path) -> Option<Vec<u8>> {
    let bytes = fs::read(path).ok()?;
    let sum = fs::read_to_string(sum_path(path)).ok()?;
    if Runtime::sha256(&bytes) == sum.trim() {
        Some(bytes)
    } else {
        tracing::warn!(path = %path.display(), "precompiled artifact failed its checksum; recompiling");
        None
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut f = fs::File::create(path).map_err(io("create", path))?;
    f.write_all(bytes).map_err(io("write", path))?;
    f.sync_all().map_err(io("sync", path))
}

/// Subdirectories, skipping the store's own staging entries.
fn read_dirs(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("list", dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io("list", dir))?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            out.push(entry.path());
        }
    }
    Ok(out)
}
