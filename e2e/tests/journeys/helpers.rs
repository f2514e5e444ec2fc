//! The harness: one localbase (with its PostgreSQL cluster and the worker) and one
//! chromedriver per test run, shared by every journey; a fresh Chromium session per
//! journey; DOM helpers that wait for what a user would see; and API helpers that check
//! what the UI claims against the database.
//!
//! Processes are started through a small bash watchdog that holds a pipe from this test
//! process on its standard input: when the test process ends, however it ends, the pipe
//! closes and the watchdog stops localbase with SIGTERM (which stops the worker and
//! PostgreSQL) or chromedriver's whole process group (Chromium included), then removes
//! the temporary directories. Statics are never dropped in Rust, so a `Drop` could not
//! do this for a stack shared by all journeys.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use testkit::free_port;

/// How long a page may take to show what a journey waits for.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// How long localbase may take to start (initdb, migrations, seed).
const STARTUP: Duration = Duration::from_secs(240);

/// Desktop and phone window sizes for screenshots.
const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);

/// The workspace root (`e2e/..`).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// The cargo target directory.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        None => workspace_root().join("target"),
    }
}

/// A process behind the watchdog. Its stdin pipe is held for the life of the test
/// process; closing it (at exit) makes the watchdog stop the process.
struct Watched {
    _child: Child,
    _stdin: Mutex<ChildStdin>,
}

/// Runs `script` with bash in its own process group, stdin piped (the watchdog), stdout
/// piped; forwards stdout lines to `log` and to a channel.
fn watched(
    script: &str,
    args: &[String],
    log: Option<&Path>,
) -> Result<(Watched, mpsc::Receiver<String>)> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("watchdog")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .context("cannot run bash")?;
    let stdin = child.stdin.take().context("no stdin pipe")?;
    let stdout = child.stdout.take().context("no stdout pipe")?;
    let (tx, rx) = mpsc::channel();
    let log = log.map(Path::to_path_buf);
    std::thread::spawn(move || {
        let mut file = log.and_then(|log| fresh_file(&log).ok());
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(file) = file.as_mut() {
                let _ = writeln!(file, "{line}");
            }
            // Nobody listens after start-up: that is fine.
            let _ = tx.send(line);
        }
    });
    Ok((
        Watched {
            _child: child,
            _stdin: Mutex::new(stdin),
        },
        rx,
    ))
}

/// A new, empty file at `path`. The old one is unlinked, not truncated: the localbase of
/// a previous run may still be writing its shutdown lines into it.
fn fresh_file(path: &Path) -> std::io::Result<std::fs::File> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::File::create(path)
}

/// Waits for a line containing `needle`, or fails with the lines seen so far.
fn wait_for_line(
    rx: &mpsc::Receiver<String>,
    needle: &str,
    within: Duration,
    what: &str,
) -> Result<String> {
    let until = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Ok(line),
            Ok(line) => {
                seen.push(line);
                if seen.len() > 40 {
                    seen.remove(0);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                bail!(
                    "{what} did not print {needle:?} within {within:?}; last lines:\n{}",
                    seen.join("\n")
                )
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                bail!(
                    "{what} exited before printing {needle:?}; last lines:\n{}",
                    seen.join("\n")
                )
            }
        }
    }
}

/// localbase: SIGTERM on EOF (it stops the worker and PostgreSQL), then a postmaster
/// left behind, then the data directory. `$1` log file, `$2` data dir, then the command.
const LOCALBASE_WATCHDOG: &str = r#"
log=$1; data=$2; shift 2
exec 3<&0 </dev/null
"$@" >"$log" 2>&1 &
pid=$!
tail -n +1 -f --pid="$pid" "$log" 2>/dev/null &
read -r _ <&3
kill -TERM "$pid" 2>/dev/null
wait "$pid"
if [ -f "$data/pg/postmaster.pid" ]; then
  kill -QUIT "$(head -n 1 "$data/pg/postmaster.pid")" 2>/dev/null
fi
rm -rf "$data" "$(dirname "$data")/dist"
rmdir "$(dirname "$data")" 2>/dev/null
exit 0
"#;

/// chromedriver: on EOF, SIGTERM to the whole process group (chromedriver and any
/// Chromium it started), then the profiles directory. `$1` profiles dir, then the command.
const CHROMEDRIVER_WATCHDOG: &str = r#"
profiles=$1; shift
exec 3<&0 </dev/null
"$@" 2>&1 &
read -r _ <&3
trap '' TERM
kill -TERM 0 2>/dev/null
wait
rm -rf "$profiles"
rmdir "$(dirname "$profiles")" 2>/dev/null
exit 0
"#;

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The running stack: the site, its anon key, and chromedriver.
pub struct Stack {
    /// `http://127.0.0.1:PORT`: the SPA and the API.
    pub base: String,
    /// The anon key from `/config.json`.
    pub anon_key: String,
    /// `http://127.0.0.1:PORT` of chromedriver.
    pub webdriver: String,
    /// Where each browser session gets its own profile directory.
    pub profiles: PathBuf,
    /// Where screenshots go.
    pub screenshots: PathBuf,
    /// localbase's PostgreSQL as its superuser (trust auth on 127.0.0.1), for test data
    /// that no page makes, such as a large history of business events.
    pub database_url: String,
    _localbase: Watched,
    _chromedriver: Watched,
}

static STACK: OnceLock<std::result::Result<Stack, String>> = OnceLock::new();

/// The stack shared by all journeys, started on first use.
pub fn stack() -> Result<&'static Stack> {
    STACK
        .get_or_init(|| start_stack().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("the test stack could not start: {e}"))
}

fn require(path: &Path, build: &str) -> Result<()> {
    if path.exists() {
        Ok(())
    } else {
        bail!(
            "{} is missing: run `{build}` first (from {})",
            path.display(),
            workspace_root().display()
        )
    }
}

fn start_stack() -> Result<Stack> {
    let root = workspace_root();
    let target = target_dir();
    let localbase = target.join("debug/localbase");
    let worker = target.join("debug/worker");
    let dist = root.join("dist");
    require(&localbase, "cargo build -p localbase -p worker")?;
    require(&worker, "cargo build -p localbase -p worker")?;
    require(&dist.join("index.html"), "trunk build --release")?;
    let chromedriver =
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    require(
        Path::new(&chromedriver),
        "apt-get install chromium chromium-driver",
    )?;

    let started = Instant::now();
    let run_dir =
        std::env::temp_dir().join(format!("taskdeck-e2e-{}", uuid::Uuid::new_v4().simple()));
    let data = run_dir.join("localbase");
    let profiles = run_dir.join("profiles");
    std::fs::create_dir_all(&profiles).context("creating the temp directory")?;
    // A copy of the SPA, so a `trunk build` during the run cannot pull it away.
    let site = run_dir.join("dist");
    copy_dir(&dist, &site).with_context(|| format!("copying {}", dist.display()))?;
    let logs = target.join("e2e");
    std::fs::create_dir_all(&logs)?;
    let screenshots = target.join("screenshots");
    std::fs::create_dir_all(&screenshots)?;

    // chromedriver first: it starts while localbase runs initdb.
    let driver_port = free_port()?;
    let (chromedriver_proc, driver_lines) = watched(
        CHROMEDRIVER_WATCHDOG,
        &[
            profiles.display().to_string(),
            "env".into(),
            "TZ=UTC".into(),
            chromedriver,
            format!("--port={driver_port}"),
        ],
        Some(&logs.join("chromedriver.log")),
    )?;

    let port = free_port()?;
    let localbase_log = logs.join("localbase.log");
    drop(fresh_file(&localbase_log)?);
    let (localbase_proc, lines) = watched(
        LOCALBASE_WATCHDOG,
        &[
            localbase_log.display().to_string(),
            data.display().to_string(),
            "env".into(),
            // http_request tasks may call the journeys' own local server.
            "WORKER_HTTP_ALLOW_PRIVATE=true".into(),
            localbase.display().to_string(),
            "--repo-root".into(),
            root.display().to_string(),
            "up".into(),
            "--port".into(),
            port.to_string(),
            "--data-dir".into(),
            data.display().to_string(),
            "--dist".into(),
            site.display().to_string(),
            "--worker-bin".into(),
            worker.display().to_string(),
        ],
        // The watchdog's stdout is a copy of localbase.log.
        None,
    )?;
    wait_for_line(
        &driver_lines,
        "started successfully",
        Duration::from_secs(30),
        "chromedriver",
    )?;
    let ready = wait_for_line(&lines, "ready on http://127.0.0.1:", STARTUP, "localbase")?;
    let base = format!("http://127.0.0.1:{port}");
    if !ready.contains(&base) {
        bail!("localbase says {ready:?}, expected {base}");
    }
    // "  Database: postgres://postgres:***@127.0.0.1:PORT/postgres": the cluster trusts
    // local connections, so the redacted password does not matter.
    let database_line = wait_for_line(&lines, "Database: ", STARTUP, "localbase")?;
    let database_url = database_line
        .split_once("Database: ")
        .map(|(_, url)| url.trim().replace(":***@", "@"))
        .context("no database URL after \"Database: \"")?;
    eprintln!(
        "e2e: stack ready in {:.1} s ({base}, chromedriver on {driver_port})",
        started.elapsed().as_secs_f64()
    );

    // The anon key, as the SPA gets it.
    let config: Value = std::thread::spawn({
        let url = format!("{base}/config.json");
        move || -> Result<Value> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime
                .block_on(async { Ok(reqwest::get(&url).await?.error_for_status()?.json().await?) })
        }
    })
    .join()
    .map_err(|_| anyhow!("config.json thread panicked"))??;
    let anon_key = config["supabaseAnonKey"]
        .as_str()
        .context("no supabaseAnonKey in /config.json")?
        .to_owned();

    Ok(Stack {
        base,
        anon_key,
        webdriver: format!("http://127.0.0.1:{driver_port}"),
        profiles,
        screenshots,
        database_url,
        _localbase: localbase_proc,
        _chromedriver: chromedriver_proc,
    })
}

/// What to wait for or act on.
#[derive(Debug, Clone, Copy)]
pub enum Find<'a> {
    /// A CSS selector.
    Css(&'a str),
    /// An element whose text contains this (the innermost one).
    Text(&'a str),
    /// A heading (h1–h3) whose text is exactly this.
    Heading(&'a str),
    /// A heading (h1–h3) whose text starts with this.
    HeadingStarting(&'a str),
    /// A button whose text or aria-label is exactly this.
    Button(&'a str),
    /// A link whose text is exactly this.
    Link(&'a str),
}

/// An XPath string literal for any text (quotes handled with `concat`).
pub fn xpath_literal(text: &str) -> String {
    if !text.contains('"') {
        format!("\"{text}\"")
    } else if !text.contains('\'') {
        format!("'{text}'")
    } else {
        let parts: Vec<String> = text.split('"').map(|p| format!("\"{p}\"")).collect();
        format!("concat({})", parts.join(", '\"', "))
    }
}

impl Find<'_> {
    fn xpath(&self) -> Option<String> {
        let headings = "*[self::h1 or self::h2 or self::h3]";
        Some(match self {
            Find::Css(_) => return None,
            Find::Text(t) => {
                let t = xpath_literal(t);
                format!("//body//*[contains(normalize-space(.), {t}) and not(*[contains(normalize-space(.), {t})])]")
            }
            Find::Heading(t) => format!("//{headings}[normalize-space(.)={}]", xpath_literal(t)),
            Find::HeadingStarting(t) => format!(
                "//{headings}[starts-with(normalize-space(.), {})]",
                xpath_literal(t)
            ),
            Find::Button(t) => {
                let t = xpath_literal(t);
                format!("//button[normalize-space(.)={t} or @aria-label={t}]")
            }
            Find::Link(t) => format!("//a[normalize-space(.)={}]", xpath_literal(t)),
        })
    }
}

/// One Chromium session.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// The site.
    pub base: String,
    stack: &'static Stack,
    profile: PathBuf,
}

/// Chromium's DevTools command `method` with `params`, through chromedriver's
/// `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    method: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.method, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Who opens the browser: the languages it prefers (`Accept-Language`,
/// `navigator.languages`) and its time zone.
#[derive(Debug, Clone, Copy)]
pub struct Visitor {
    /// `intl.accept_languages`, e.g. `id-ID,id`.
    pub languages: &'static str,
    /// An IANA zone the browser reports and computes local times in.
    pub time_zone: &'static str,
}

impl Visitor {
    /// The journeys' default: an English browser in UTC (chromedriver runs with TZ=UTC).
    pub const ENGLISH: Visitor = Visitor {
        languages: "en-US,en",
        time_zone: "UTC",
    };
}

impl Browser {
    /// A fresh Chromium (own profile: no session carried over) on the shared stack, in
    /// English and UTC.
    pub async fn open() -> Result<Self> {
        Self::open_as(Visitor::ENGLISH).await
    }

    /// A fresh Chromium for `visitor`'s languages and zone.
    pub async fn open_as(visitor: Visitor) -> Result<Self> {
        let stack = stack()?;
        let profile = stack
            .profiles
            .join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&profile)?;
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", format!("--user-data-dir={}", profile.display()),
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                ],
                "prefs": { "intl.accept_languages": visitor.languages }
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            bail!("capabilities must be an object");
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&stack.webdriver)
            .await
            .context("starting a Chromium session")?;
        if visitor.time_zone != "UTC" {
            client
                .issue_cmd(Cdp {
                    method: "Emulation.setTimezoneOverride",
                    params: json!({ "timezoneId": visitor.time_zone }),
                })
                .await
                .with_context(|| format!("putting the browser in {}", visitor.time_zone))?;
        }
        Ok(Self {
            client,
            base: stack.base.clone(),
            stack,
            profile,
        })
    }

    /// Ends the session and removes its profile.
    pub async fn close(self) -> Result<()> {
        let result = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
        result.context("closing the browser")
    }

    /// Opens a path of the site (a full page load).
    pub async fn goto(&self, path: &str) -> Result<()> {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .with_context(|| format!("opening {path}"))
    }

    /// The current path and query (`/tasks/…?x=y`).
    pub async fn path(&self) -> Result<String> {
        let url = self.client.current_url().await?;
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        })
    }

    /// Waits until `what` is on the page, within [`DEADLINE`].
    pub async fn wait_for(&self, what: Find<'_>) -> Result<Element> {
        self.wait_for_within(what, DEADLINE).await
    }

    /// Waits until `what` is on the page, within `deadline`.
    pub async fn wait_for_within(&self, what: Find<'_>, deadline: Duration) -> Result<Element> {
        let xpath = what.xpath();
        let locator = match (&what, &xpath) {
            (Find::Css(css), _) => Locator::Css(css),
            (_, Some(xpath)) => Locator::XPath(xpath),
            _ => bail!("no locator"),
        };
        match self
            .client
            .wait()
            .at_most(deadline)
            .every(Duration::from_millis(100))
            .for_element(locator)
            .await
        {
            Ok(element) => Ok(element),
            Err(error) => {
                let path = self.path().await.unwrap_or_default();
                let text = self.page_text().await.unwrap_or_default();
                let name = format!("failed-{}", uuid::Uuid::new_v4().simple());
                let _ = self.save_png(&name, "desktop").await;
                Err(anyhow!(
                    "waited {deadline:?} for {what:?} on {path}: {error}\nscreenshot: target/screenshots/{name}-desktop.png\npage text:\n{}",
                    text.chars().take(2000).collect::<String>()
                ))
            }
        }
    }

    /// Polls `check` (a JS expression) until it is truthy, within `deadline`; returns its value.
    pub async fn wait_js(&self, expression: &str, deadline: Duration) -> Result<Value> {
        let until = Instant::now() + deadline;
        let script = format!("return ({expression});");
        loop {
            let value = self.client.execute(&script, vec![]).await?;
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(_) => true,
            };
            if truthy {
                return Ok(value);
            }
            if Instant::now() > until {
                let path = self.path().await.unwrap_or_default();
                bail!("waited {deadline:?} on {path} for {expression}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The visible text of the page.
    pub async fn page_text(&self) -> Result<String> {
        Ok(self.client.find(Locator::Css("body")).await?.text().await?)
    }

    /// The form control labelled `label` (`<label for=…>` with exactly that text).
    pub async fn field(&self, label: &str) -> Result<Element> {
        let xpath = format!("//label[normalize-space(.)={}]", xpath_literal(label));
        let label_el = self
            .client
            .wait()
            .at_most(DEADLINE)
            .every(Duration::from_millis(100))
            .for_element(Locator::XPath(&xpath))
            .await
            .with_context(|| format!("no label {label:?}"))?;
        let id = label_el
            .attr("for")
            .await?
            .with_context(|| format!("label {label:?} has no `for`"))?;
        self.client
            .find(Locator::Id(&id))
            .await
            .with_context(|| format!("label {label:?} points at #{id}, which is missing"))
    }

    /// Types `value` into the field labelled `label` (replacing what is there). Date and
    /// time inputs get their value set and an `input` event, as a picker would.
    pub async fn fill(&self, label: &str, value: &str) -> Result<()> {
        let field = self.field(label).await?;
        let kind = field.attr("type").await?.unwrap_or_default();
        if value.is_empty() || matches!(kind.as_str(), "date" | "datetime-local" | "time" | "month")
        {
            self.set_value(&field, value).await
        } else {
            field.clear().await?;
            field.send_keys(value).await?;
            let now = field.prop("value").await?.unwrap_or_default();
            if now != value {
                // Cleared text that the app put back: set it as a whole.
                self.set_value(&field, value).await?;
            }
            Ok(())
        }
    }

    async fn set_value(&self, field: &Element, value: &str) -> Result<()> {
        self.client
            .execute(
                "const el = arguments[0];
                 const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
                 Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, arguments[1]);
                 el.dispatchEvent(new Event('input', { bubbles: true }));
                 el.dispatchEvent(new Event('change', { bubbles: true }));",
                vec![serde_json::to_value(field)?, json!(value)],
            )
            .await?;
        Ok(())
    }

    /// Chooses the option with `value` in the select labelled `label`.
    pub async fn select(&self, label: &str, value: &str) -> Result<()> {
        let field = self.field(label).await?;
        field
            .select_by_value(value)
            .await
            .with_context(|| format!("no option {value:?} in {label:?}"))
    }

    /// Clicks the (enabled) button with this text or aria-label.
    pub async fn click_button(&self, text: &str) -> Result<()> {
        let button = self.wait_for(Find::Button(text)).await?;
        let until = Instant::now() + DEADLINE;
        while !button.is_enabled().await? {
            if Instant::now() > until {
                bail!("button {text:?} stayed disabled");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        button
            .click()
            .await
            .with_context(|| format!("clicking {text:?}"))
    }

    /// Clicks the link with this text.
    pub async fn click_link(&self, text: &str) -> Result<()> {
        self.wait_for(Find::Link(text))
            .await?
            .click()
            .await
            .with_context(|| format!("clicking link {text:?}"))
    }

    async fn save_png(&self, name: &str, variant: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let path = self.stack.screenshots.join(format!("{name}-{variant}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Saves `target/screenshots/<name>-desktop.png` and `<name>-phone.png`, each of the
    /// whole page: the window is made as tall as the page at that width, then restored.
    pub async fn screenshot(&self, name: &str) -> Result<()> {
        // Let finite CSS transitions (the progress bar's fill) end first.
        let _ = self
            .wait_js(
                "document.getAnimations().every(a => a.playState !== 'running' || a.effect.getTiming().iterations === Infinity)",
                Duration::from_secs(3),
            )
            .await;
        let desktop = self.full_page_png(name, "desktop", DESKTOP).await;
        let phone = self.full_page_png(name, "phone", PHONE).await;
        self.client.set_window_size(DESKTOP.0, DESKTOP.1).await?;
        desktop.and(phone)
    }

    async fn full_page_png(
        &self,
        name: &str,
        variant: &str,
        (width, height): (u32, u32),
    ) -> Result<()> {
        self.client.set_window_size(width, height).await?;
        let sizes = self
            .client
            .execute(
                "return [window.outerHeight - window.innerHeight, document.documentElement.scrollHeight];",
                vec![],
            )
            .await?;
        let chrome = sizes[0].as_u64().unwrap_or(0) as u32;
        let page = sizes[1].as_u64().unwrap_or(u64::from(height)) as u32;
        let tall = (page + chrome).clamp(height, 6000);
        if tall != height {
            self.client.set_window_size(width, tall).await?;
        }
        self.save_png(name, variant).await.map(|_| ())
    }

    /// Signs in through the login page and waits for the dashboard.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<()> {
        self.goto("/auth/login").await?;
        self.wait_for(Find::Heading("Sign in")).await?;
        self.fill("Email", email).await?;
        self.fill("Password", password).await?;
        self.click_button("Sign in").await?;
        self.wait_for(Find::HeadingStarting("Welcome back")).await?;
        Ok(())
    }

    /// Signs out with the header's button and waits for the landing page.
    pub async fn sign_out(&self) -> Result<()> {
        self.click_button("Sign out").await?;
        self.wait_for(Find::Link("Sign in")).await?;
        Ok(())
    }
}

/// A signed-in API user.
#[derive(Debug, Clone)]
pub struct ApiUser {
    /// The access token.
    pub token: String,
    /// `auth.users.id`.
    pub id: String,
    /// The email.
    pub email: String,
}

/// The Supabase HTTP API of the stack, as a client with the anon key.
pub struct Api {
    http: reqwest::Client,
    base: String,
    anon: String,
}

impl Api {
    /// A client for the shared stack.
    pub fn new() -> Result<Self> {
        let stack = stack()?;
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            base: stack.base.clone(),
            anon: stack.anon_key.clone(),
        })
    }

    async fn json(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Value> {
        let response = request.send().await.with_context(|| what.to_owned())?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{what}: {status}: {text}");
        }
        if text.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).with_context(|| format!("{what}: not JSON: {text}"))
    }

    fn user_from(session: &Value, email: &str) -> Result<ApiUser> {
        Ok(ApiUser {
            token: session["access_token"]
                .as_str()
                .context("no access_token")?
                .to_owned(),
            id: session["user"]["id"]
                .as_str()
                .context("no user id")?
                .to_owned(),
            email: email.to_owned(),
        })
    }

    /// `POST /auth/v1/token?grant_type=password`.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<ApiUser> {
        let session = self
            .json(
                self.http
                    .post(format!("{}/auth/v1/token?grant_type=password", self.base))
                    .header("apikey", &self.anon)
                    .json(&json!({ "email": email, "password": password })),
                &format!("signing in {email}"),
            )
            .await?;
        Self::user_from(&session, email)
    }

    /// `POST /auth/v1/signup` (confirmations are off locally: a session comes back).
    pub async fn sign_up(&self, email: &str, password: &str, name: &str) -> Result<ApiUser> {
        let session = self
            .json(
                self.http
                    .post(format!("{}/auth/v1/signup", self.base))
                    .header("apikey", &self.anon)
                    .json(
                        &json!({ "email": email, "password": password, "data": { "name": name } }),
                    ),
                &format!("signing up {email}"),
            )
            .await?;
        Self::user_from(&session, email)
    }

    /// `GET /rest/v1/<path_and_query>` as `user`.
    pub async fn get(&self, user: &ApiUser, path_and_query: &str) -> Result<Value> {
        self.json(
            self.http
                .get(format!("{}/rest/v1/{path_and_query}", self.base))
                .header("apikey", &self.anon)
                .bearer_auth(&user.token),
            &format!("GET {path_and_query}"),
        )
        .await
    }

    /// `POST /rest/v1/rpc/<function>` as `user`.
    pub async fn rpc(&self, user: &ApiUser, function: &str, args: Value) -> Result<Value> {
        self.json(
            self.http
                .post(format!("{}/rest/v1/rpc/{function}", self.base))
                .header("apikey", &self.anon)
                .bearer_auth(&user.token)
                .json(&args),
            &format!("rpc {function}"),
        )
        .await
    }

    /// `POST /rest/v1/<table>` as `user`, returning the inserted rows.
    pub async fn insert(&self, user: &ApiUser, table: &str, row: Value) -> Result<Value> {
        self.json(
            self.http
                .post(format!("{}/rest/v1/{table}", self.base))
                .header("apikey", &self.anon)
                .header("Prefer", "return=representation")
                .bearer_auth(&user.token)
                .json(&row),
            &format!("inserting into {table}"),
        )
        .await
    }

    /// `POST /auth/v1/<path>` with `body`, as `user` (the anon key alone without one).
    pub async fn auth_post(
        &self,
        user: Option<&ApiUser>,
        path: &str,
        body: Value,
    ) -> Result<Value> {
        let token = user.map_or(self.anon.as_str(), |u| u.token.as_str());
        self.json(
            self.http
                .post(format!("{}/auth/v1/{path}", self.base))
                .header("apikey", &self.anon)
                .bearer_auth(token)
                .json(&body),
            &format!("POST /auth/v1/{path}"),
        )
        .await
    }

    /// The mails localbase "sent" to `email`, oldest first (localbase only).
    pub async fn mailbox(&self, email: &str) -> Result<Vec<Value>> {
        let mails = self
            .json(
                self.http
                    .get(format!("{}/auth/v1/mailbox", self.base))
                    .query(&[("email", email)])
                    .header("apikey", &self.anon),
                &format!("mailbox of {email}"),
            )
            .await?;
        match mails {
            Value::Array(mails) => Ok(mails),
            Value::Object(mut body) => match body.remove("messages") {
                Some(Value::Array(mails)) => Ok(mails),
                _ => bail!("mailbox of {email}: no messages"),
            },
            other => bail!("mailbox of {email}: {other}"),
        }
    }

    /// Downloads `bucket/path` the way the SPA's download button does: a signed URL made
    /// with the user's token, then a plain GET of it.
    pub async fn download_signed(
        &self,
        user: &ApiUser,
        bucket: &str,
        path: &str,
    ) -> Result<Vec<u8>> {
        let signed = self
            .json(
                self.http
                    .post(format!(
                        "{}/storage/v1/object/sign/{bucket}/{path}",
                        self.base
                    ))
                    .header("apikey", &self.anon)
                    .bearer_auth(&user.token)
                    .json(&json!({ "expiresIn": 60 })),
                &format!("signing {bucket}/{path}"),
            )
            .await?;
        let url = signed["signedURL"]
            .as_str()
            .or_else(|| signed["signedUrl"].as_str())
            .context("no signedURL")?;
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            format!("{}/storage/v1{url}", self.base)
        };
        let response = self.http.get(&url).send().await?;
        let status = response.status();
        if !status.is_success() {
            bail!(
                "GET {url}: {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(response.bytes().await?.to_vec())
    }
}

/// A unique address for a user this run registers.
pub fn fresh_email(tag: &str) -> String {
    format!(
        "e2e-{tag}-{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

/// Today's date in UTC, and `days` before it, as `YYYY-MM-DD` (the browser runs with TZ=UTC).
pub fn utc_date(days_ago: i64) -> String {
    local_date(0, days_ago)
}

/// Today's date in the IANA zone `zone`, as PostgreSQL (the database's zone rules, with
/// summer time) counts it, and the day `days_ago` before it, both `YYYY-MM-DD`.
pub async fn date_in_zone(zone: &str, days_ago: i32) -> Result<(String, String)> {
    use sqlx::Connection;
    let url = &stack()?.database_url;
    let mut db = sqlx::PgConnection::connect(url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let row: (String, String) = sqlx::query_as(
        "select (now() at time zone $1)::date::text, \
                ((now() at time zone $1)::date - $2)::text",
    )
    .bind(zone)
    .bind(days_ago)
    .fetch_one(&mut db)
    .await
    .with_context(|| format!("today in {zone}"))?;
    Ok(row)
}

/// Today's date where clocks are `offset_secs` ahead of UTC, and `days` before it.
pub fn local_date(offset_secs: i64, days_ago: i64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
        + offset_secs;
    let days = secs.div_euclid(86_400) - days_ago;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM…` (UTC) as the English SPA writes that minute: `Dec 7, 2026, 05:20 PM
/// UTC` (`Intl.DateTimeFormat` for en-US, 2-digit hour and minute, the zone named).
pub fn english_utc_minute(at: &str) -> Result<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let field = |range: std::ops::Range<usize>| -> Result<u32> {
        at.get(range)
            .and_then(|f| f.parse().ok())
            .with_context(|| format!("{at:?} is not YYYY-MM-DDTHH:MM"))
    };
    let (year, month, day, hour, minute) = (
        field(0..4)?,
        field(5..7)?,
        field(8..10)?,
        field(11..13)?,
        field(14..16)?,
    );
    let name = MONTHS
        .get(month.wrapping_sub(1) as usize)
        .context("a month")?;
    let (twelve, half) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    Ok(format!(
        "{name} {day}, {year}, {twelve:02}:{minute:02} {half} UTC"
    ))
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, `secs_ahead` from now (for `datetime-local`).
pub fn utc_datetime_ahead(secs_ahead: i64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
        + secs_ahead;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[test]
fn dates_convert() {
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    assert_eq!(xpath_literal("a\"b'c"), "concat(\"a\", '\"', \"b'c\")");
    let english = |at: &str| english_utc_minute(at).expect("a time");
    assert_eq!(english("2026-12-07T17:20:05"), "Dec 7, 2026, 05:20 PM UTC");
    assert_eq!(english("2026-01-01T00:05"), "Jan 1, 2026, 12:05 AM UTC");
    assert_eq!(english("2026-06-30T12:59"), "Jun 30, 2026, 12:59 PM UTC");
}
