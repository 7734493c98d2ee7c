//! Provider configuration: core's [`FilestoreConfig`] (Temporal's `filestore` section) and its
//! defaults.

pub use archiver_core::config::FilestoreConfig;

/// The file mode used when none is configured (Temporal's usual `fileMode: "0666"`).
pub const DEFAULT_FILE_MODE: u32 = 0o666;
/// The directory mode used when none is configured (Temporal's usual `dirMode: "0766"`).
pub const DEFAULT_DIR_MODE: u32 = 0o766;

/// The modes to apply for `config`: permission bits only, applied exactly (no umask).
pub(crate) fn modes(config: &FilestoreConfig) -> crate::fsio::Modes {
    crate::fsio::Modes {
        file: config.file_mode & 0o7777,
        dir: config.dir_mode & 0o7777,
    }
}

/// The configuration with [`DEFAULT_FILE_MODE`] and [`DEFAULT_DIR_MODE`].
pub(crate) fn default_config() -> FilestoreConfig {
    FilestoreConfig::new(DEFAULT_FILE_MODE, DEFAULT_DIR_MODE)
}
