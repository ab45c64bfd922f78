//! `deliver build`: runs the user's build command with the tags to produce, pushes the image
//! (through the registry API from the OCI layout it wrote, or with the user's push command),
//! checks that every tag names the one digest, and records the build.
//!
//! The build command runs with `sh -c` in the working directory, with:
//! - `TERRANE_IMAGE`: the repository URI; `TERRANE_IMAGE_TAGS`: the tags, space-separated
//!   (build number, short git sha, `latest`); `TERRANE_IMAGE_REFS`: `uri:tag` for each;
//! - `TERRANE_OCI_LAYOUT`: the directory where it writes an OCI image layout (unless `push` is
//!   set, in which case the push command pushes and this directory is unused);
//! - `TERRANE_BUILD_NUMBER`, `TERRANE_GIT_SHA` (full, when known).

use std::path::PathBuf;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::record::Build;
use crate::{now, DeliverError, Deliverer};

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub build_number: Option<u64>,
    pub git_sha: Option<String>,
}

/// CI systems' build numbers, when the flag does not give one.
const BUILD_NUMBER_VARS: &[&str] = &["BUILD_NUMBER", "GITHUB_RUN_NUMBER", "CI_PIPELINE_IID"];
const GIT_SHA_VARS: &[&str] = &["GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT"];

fn from_env(vars: &[&str]) -> Option<String> {
    vars.iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
}

impl Deliverer<'_> {
    pub fn layout_dir(&self) -> PathBuf {
        self.dir
            .join(".terrane")
            .join("deliver")
            .join(&self.config.app)
            .join("oci")
    }

    pub async fn build(&self, opts: &BuildOptions) -> Result<Build, DeliverError> {
        let builds = self.records().builds()?;
        let number = match opts.build_number {
            Some(n) => n,
            None => match from_env(BUILD_NUMBER_VARS) {
                Some(s) => s.trim().parse().map_err(|_| {
                    DeliverError::Build(format!("the CI's build number {s:?} is not a number"))
                })?,
                None => builds.last().map_or(1, |b| b.number + 1),
            },
        };
        let sha = match &opts.git_sha {
            Some(s) => Some(s.clone()),
            None => match from_env(GIT_SHA_VARS) {
                Some(s) => Some(s),
                None => git_head(&self.dir).await,
            },
        };
        if let Some(s) = &sha {
            if s.len() < 7 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(DeliverError::Build(format!(
                    "git sha {s:?} is not at least 7 hex digits"
                )));
            }
        }
        let mut tags = vec![number.to_string()];
        if let Some(s) = &sha {
            tags.push(s[..7].to_lowercase());
        }
        tags.push("latest".into());
        let o = &self.objects;
        let layout = self.layout_dir();
        let refs: Vec<String> = tags
            .iter()
            .map(|t| format!("{}:{t}", o.repository_uri))
            .collect();
        let mut env = vec![
            ("TERRANE_IMAGE", o.repository_uri.clone()),
            ("TERRANE_IMAGE_TAGS", tags.join(" ")),
            ("TERRANE_IMAGE_REFS", refs.join(" ")),
            ("TERRANE_OCI_LAYOUT", layout.display().to_string()),
            ("TERRANE_BUILD_NUMBER", number.to_string()),
        ];
        if let Some(s) = &sha {
            env.push(("TERRANE_GIT_SHA", s.clone()));
        }
        let build_cmd = self.config.build.as_deref().ok_or_else(|| {
            DeliverError::Config(format!(
                "{}: build is not set (the command that builds the image)",
                self.config.path.display()
            ))
        })?;
        if layout.exists() {
            std::fs::remove_dir_all(&layout)
                .map_err(|e| DeliverError::Build(format!("{}: {e}", layout.display())))?;
        }
        std::fs::create_dir_all(&layout)
            .map_err(|e| DeliverError::Build(format!("{}: {e}", layout.display())))?;
        self.say(
            "step",
            format!("Building {} with tags {}", o.repository, tags.join(", ")),
        );
        self.run_command("build", build_cmd, &env).await?;
        let digest = match &self.config.push {
            Some(push) => {
                self.say("step", format!("Pushing with: {push}"));
                self.run_command("push", push, &env).await?;
                self.cloud
                    .image_digest(&o.repository, &tags[0])
                    .await?
                    .ok_or_else(|| {
                        DeliverError::Build(format!(
                            "the push command finished, but {}:{} is not in the registry",
                            o.repository, tags[0]
                        ))
                    })?
            }
            None => {
                let image = crate::oci::read_layout(&layout)?;
                let manifest_digest = crate::oci::sha256(&image.manifest);
                // Release tags never move: refuse before anything is pushed, not half-way.
                for t in tags.iter().filter(|t| *t != "latest") {
                    if let Some(d) = self.cloud.image_digest(&o.repository, t).await? {
                        if d != manifest_digest {
                            return Err(DeliverError::Build(format!(
                                "{}:{t} names {d} already, and this build is {manifest_digest}: a release tag names one image for good (the repository's tags are immutable but for latest). Nothing was pushed; build another commit or give another build number",
                                o.repository
                            )));
                        }
                    }
                }
                let pushed = self.cloud.push_image(&o.repository, &image, &tags).await?;
                let total = image.blobs.len();
                self.say(
                    "step",
                    format!(
                        "Pushed {} ({} of {total} blobs uploaded, {} already in the repository)",
                        pushed.digest,
                        pushed.uploaded,
                        total - pushed.uploaded
                    ),
                );
                if pushed.digest != manifest_digest {
                    return Err(DeliverError::Build(format!(
                        "the registry reports {} for a manifest whose digest is {manifest_digest}",
                        pushed.digest
                    )));
                }
                pushed.digest
            }
        };
        for t in &tags {
            let d = self.cloud.image_digest(&o.repository, t).await?;
            if d.as_deref() != Some(digest.as_str()) {
                return Err(DeliverError::Build(format!(
                    "{}:{t} names {} in the registry, not {digest}: a release tag names one image for good (the repository's tags are immutable but for latest); build another commit or another build number",
                    o.repository,
                    d.as_deref().unwrap_or("nothing")
                )));
            }
        }
        let b = Build {
            number,
            git_sha: sha,
            tags,
            image: format!("{}@{digest}", o.repository_uri),
            digest,
            repository: o.repository.clone(),
            repository_uri: o.repository_uri.clone(),
            who: self.who.clone(),
            created: now(),
        };
        self.records().put_build(&b)?;
        self.say("step", format!("Build {number}: {}", b.image));
        Ok(b)
    }

    /// Runs `cmd` with `sh -c`, its output lines as `output` events.
    async fn run_command(
        &self,
        what: &str,
        cmd: &str,
        env: &[(&str, String)],
    ) -> Result<(), DeliverError> {
        let mut c = tokio::process::Command::new("sh");
        // One stream, in the order the command wrote it.
        c.arg("-c")
            .arg(format!("exec 2>&1\n{cmd}"))
            .current_dir(&self.dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c
            .spawn()
            .map_err(|e| DeliverError::Build(format!("the {what} command could not start: {e}")))?;
        let out = child.stdout.take().expect("piped");
        let mut tail = Vec::new();
        let mut lines = BufReader::new(out).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            tail.push(l.clone());
            if tail.len() > 20 {
                tail.remove(0);
            }
            self.say("output", l);
        }
        let status = child
            .wait()
            .await
            .map_err(|e| DeliverError::Build(format!("the {what} command: {e}")))?;
        if !status.success() {
            return Err(DeliverError::Build(format!(
                "the {what} command ({cmd}) failed with {status}; its last lines:\n{}",
                tail.join("\n")
            )));
        }
        Ok(())
    }
}

/// `git rev-parse HEAD` in `dir`, when it is a repository.
async fn git_head(dir: &std::path::Path) -> Option<String> {
    let out = tokio::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .output()
        .await
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}
