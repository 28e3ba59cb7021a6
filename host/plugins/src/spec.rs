//! `name` or `name@version`, as users type it.

use std::fmt;
use std::str::FromStr;

/// Which installed plugin a command means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSpec {
    /// The plugin's name.
    pub name: String,
    /// A version, or `None` for the newest installed.
    pub version: Option<semver::Version>,
}

impl FromStr for PluginSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, version) = match s.split_once('@') {
            Some((n, v)) => (n, Some(v)),
            None => (s, None),
        };
        if name.is_empty() {
            return Err(format!("'{s}' names no plugin; write name or name@version"));
        }
        let version = version
            .map(|v| {
                semver::Version::parse(v)
                    .map_err(|e| format!("'{v}' in '{s}' is not a version like 1.2.0: {e}"))
            })
            .transpose()?;
        Ok(Self {
            name: name.to_owned(),
            version,
        })
    }
}

impl fmt::Display for PluginSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}@{v}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_versions() {
        let s: PluginSpec = "wdt@1.2.0".parse().expect("valid");
        assert_eq!(s.name, "wdt");
        assert_eq!(s.version, Some(semver::Version::new(1, 2, 0)));
        assert_eq!("wdt".parse::<PluginSpec>().expect("valid").version, None);
        assert!("wdt@one".parse::<PluginSpec>().is_err());
        assert!("@1.0.0".parse::<PluginSpec>().is_err());
    }
}
