//! The receipt printer: a shell command from the station config (`[kiosk] receipt_command`,
//! e.g. `lp -d receipts`) that gets the receipt as plain text on its standard input. It runs in
//! the background under a time limit; whatever goes wrong is logged and never holds up the
//! candidate.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A printer command that has not finished by then is stopped.
const LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("cannot run the receipt command '{command}': {source}")]
    Start {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the receipt command '{command}' did not finish within {} s", LIMIT.as_secs())]
    Timeout { command: String },
    #[error("the receipt command '{command}' failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
}

/// Runs `command` with `sh -c`, writes `text` to it, and waits for it to succeed.
pub async fn print(command: &str, text: &str) -> Result<(), PrintError> {
    let start = |source| PrintError::Start {
        command: command.to_string(),
        source,
    };
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(start)?;
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A printer command that does not read its input is its own business.
            let _ = stdin.write_all(text.as_bytes()).await;
        }
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            let _ = err.read_to_string(&mut stderr).await;
        }
        child.wait().await.map(|status| (status, stderr))
    };
    match tokio::time::timeout(LIMIT, run).await {
        Err(_) => Err(PrintError::Timeout {
            command: command.to_string(),
        }),
        Ok(Err(e)) => Err(start(e)),
        Ok(Ok((status, _))) if status.success() => Ok(()),
        Ok(Ok((status, stderr))) => Err(PrintError::Failed {
            command: command.to_string(),
            status,
            stderr: stderr.lines().next().unwrap_or_default().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_receipt_reaches_the_command_and_failures_are_typed() -> crate::TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("printed.txt");
        print(&format!("cat > '{}'", out.display()), "Receipt ABCD-EFGH\n").await?;
        assert_eq!(std::fs::read_to_string(&out)?, "Receipt ABCD-EFGH\n");
        let failed = print("echo 'no printer' >&2; exit 3", "x").await;
        let Err(PrintError::Failed { stderr, .. }) = failed else {
            panic!("expected a failure, got {failed:?}")
        };
        assert_eq!(stderr, "no printer");
        Ok(())
    }
}
