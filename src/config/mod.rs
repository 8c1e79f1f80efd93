//! Configuration: the TOML schema, defaults, validation with path-precise errors, and
//! `${ENV}` expansion for secrets. Depends only on `model`.

pub mod env;
pub mod schema;
pub mod types;

pub use schema::*;
pub use types::{Duration, Pattern, Secret, TimeZone, Weekday};

use std::path::Path;

/// One problem in a config file, located by its dotted key path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ConfigProblem {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ConfigProblem>),
}

/// Read, parse and validate a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text)
}

/// Parse and validate config text.
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    let de = toml::Deserializer::parse(text).map_err(|e| {
        ConfigError::Invalid(vec![ConfigProblem {
            path: "(syntax)".into(),
            reason: e.message().to_string(),
        }])
    })?;
    let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
        ConfigError::Invalid(vec![ConfigProblem {
            path: e.path().to_string(),
            reason: e.inner().message().to_string(),
        }])
    })?;
    Ok(config)
}
