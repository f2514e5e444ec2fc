//! Object bytes on disk: `<data_dir>/storage/<bucket>/<object id>`. Uploads are written to a
//! temporary file first and renamed into place only after their row is committed, so a
//! reader never sees a half-written object.

use crate::Config;
use md5::{Digest, Md5};
use std::path::PathBuf;
use uuid::Uuid;

fn root(config: &Config) -> PathBuf {
    config.data_dir.join("storage")
}

/// A directory name for a bucket id: the id itself when it is plainly safe, else its hex.
fn bucket_dir(bucket: &str) -> String {
    let plain = !bucket.is_empty()
        && bucket != "."
        && bucket != ".."
        && !bucket.starts_with('.')
        && bucket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if plain {
        bucket.to_owned()
    } else {
        format!("_{}", hex::encode(bucket.as_bytes()))
    }
}

/// Where an object's bytes live.
pub fn object_path(config: &Config, bucket: &str, id: Uuid) -> PathBuf {
    root(config).join(bucket_dir(bucket)).join(id.to_string())
}

/// A staged upload: bytes on disk under a temporary name, with their size and MD5 eTag.
#[derive(Debug)]
pub struct Staged {
    /// The temporary file under `<data_dir>/storage/.tmp/`.
    pub path: PathBuf,
    /// Its length in bytes.
    pub size: u64,
    /// `"<md5 hex>"`, quotes included, as S3 and Storage give it.
    pub etag: String,
}

impl Staged {
    /// Writes `bytes` to `<data_dir>/storage/.tmp/<random>`.
    pub async fn write(config: &Config, bytes: &[u8]) -> std::io::Result<Staged> {
        let dir = root(config).join(".tmp");
        tokio::fs::create_dir_all(&dir).await?;
        let path = dir.join(Uuid::new_v4().simple().to_string());
        tokio::fs::write(&path, bytes).await?;
        let etag = format!("\"{}\"", hex::encode(Md5::digest(bytes)));
        Ok(Staged {
            path,
            size: bytes.len() as u64,
            etag,
        })
    }

    /// Moves the bytes into place (after the row is committed).
    pub async fn commit(self, config: &Config, bucket: &str, id: Uuid) -> std::io::Result<()> {
        let target = object_path(config, bucket, id);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(&self.path, &target).await
    }

    /// Drops the staged bytes (the row was refused).
    pub async fn discard(self) {
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}

/// Removes an object's bytes; a file already gone is not an error.
pub async fn remove(config: &Config, bucket: &str, id: Uuid) {
    let path = object_path(config, bucket, id);
    if let Err(e) = tokio::fs::remove_file(&path).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "storage: could not remove an object file");
        }
    }
}

/// Copies an object's bytes to a new object id.
pub async fn copy(
    config: &Config,
    from_bucket: &str,
    from: Uuid,
    to_bucket: &str,
    to: Uuid,
) -> std::io::Result<()> {
    let target = object_path(config, to_bucket, to);
    if let Some(parent) = target.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let tmp = root(config)
        .join(".tmp")
        .join(Uuid::new_v4().simple().to_string());
    if let Some(parent) = tmp.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    tokio::fs::copy(object_path(config, from_bucket, from), &tmp).await?;
    tokio::fs::rename(&tmp, &target).await
}

#[cfg(test)]
mod tests {
    use super::bucket_dir;

    #[test]
    fn bucket_directories_never_escape() {
        assert_eq!(bucket_dir("avatars"), "avatars");
        assert_eq!(bucket_dir(".."), "_2e2e");
        assert_eq!(bucket_dir("a/b"), "_612f62");
    }
}
