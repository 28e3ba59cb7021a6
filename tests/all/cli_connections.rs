//! Every seed connector's `check()` through the real `weft` binary and host
//! against the simulators: right credentials pass, a wrong one fails with
//! an `auth` error that names the problem.

use std::path::Path;

use weft_sim::{SimConfig, SimHandle, Simulator};

use crate::support::{Run, plugin_path, weft};

fn sim() -> SimHandle {
    Simulator::start(SimConfig::default()).expect("the simulator starts")
}

fn setup(home: &Path, plugins: &[&str]) {
    for p in plugins {
        let path = plugin_path(p);
        let r = weft(
            home,
            &["plugin", "install", path.to_str().expect("UTF-8 path")],
        );
        assert_eq!(r.code, 0, "install {p}: {r:?}");
    }
    let r = weft(home, &["tenant", "add", "acme"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// `weft connection add <name> --tenant acme --plugin <plugin> ... --allow-address 127.0.0.1`.
fn add(home: &Path, name: &str, plugin: &str, settings: &[(&str, &str)], secrets: &[(&str, &str)]) {
    let mut args: Vec<String> = [
        "connection",
        "add",
        name,
        "--tenant",
        "acme",
        "--plugin",
        plugin,
    ]
    .map(str::to_owned)
    .to_vec();
    for (k, v) in settings {
        args.extend(["--set".to_owned(), format!("{k}={v}")]);
    }
    for (k, v) in secrets {
        args.extend(["--secret".to_owned(), format!("{k}={v}")]);
    }
    args.extend(["--allow-address".to_owned(), "127.0.0.1".to_owned()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = weft(home, &refs);
    assert_eq!(r.code, 0, "connection add {name}: {r:?}");
}

fn check(home: &Path, name: &str) -> Run {
    weft(home, &["connection", "check", name, "--tenant", "acme"])
}

fn assert_works(home: &Path, name: &str) {
    let r = check(home, name);
    assert_eq!(r.code, 0, "{name} should pass its check: {r:?}");
    assert!(r.stdout.contains("works"), "{r:?}");
}

/// Fails as `auth`, and the message mentions each of `names`.
fn assert_auth_failure(home: &Path, name: &str, names: &[&str]) {
    let r = check(home, name);
    assert_eq!(r.code, 1, "{name} should fail its check: {r:?}");
    assert!(
        r.stderr.contains("auth:"),
        "{name} fails as auth: {}",
        r.stderr
    );
    for n in names {
        assert!(
            r.stderr.contains(n),
            "{name}: the message names '{n}': {}",
            r.stderr
        );
    }
    assert!(
        !r.stderr.contains("WRONG-secret"),
        "the wrong secret is not echoed: {}",
        r.stderr
    );
}

#[test]
fn wdt_check() {
    let sim = sim();
    let home = tempfile::tempdir().expect("tempdir");
    setup(home.path(), &["wdt"]);
    let c = &sim.config().credentials.wdt;
    let settings = [
        ("base_url", sim.origin()),
        ("sid", c.sid.as_str()),
        ("appkey", c.appkey.as_str()),
    ];
    add(
        home.path(),
        "good",
        "wdt",
        &settings,
        &[("appsecret", &c.appsecret)],
    );
    add(
        home.path(),
        "bad",
        "wdt",
        &settings,
        &[("appsecret", "WRONG-secret")],
    );
    assert_works(home.path(), "good");
    assert_auth_failure(home.path(), "bad", &["签名错误", "appsecret"]);
}

#[test]
fn qimen_check_for_both_targets() {
    let sim = sim();
    let home = tempfile::tempdir().expect("tempdir");
    setup(home.path(), &["qimen"]);
    let c = &sim.config().credentials.qimen;
    for (name, target) in [
        ("wdt", &c.wdt_target_app_key),
        ("jky", &c.jackyun_target_app_key),
    ] {
        let settings = [
            ("base_url", sim.origin()),
            ("app_key", c.app_key.as_str()),
            ("target_app_key", target.as_str()),
            ("customer_id", c.customer_id.as_str()),
        ];
        add(
            home.path(),
            &format!("{name}-good"),
            "qimen",
            &settings,
            &[("app_secret", &c.secret)],
        );
        add(
            home.path(),
            &format!("{name}-bad"),
            "qimen",
            &settings,
            &[("app_secret", "WRONG-secret")],
        );
        assert_works(home.path(), &format!("{name}-good"));
        assert_auth_failure(home.path(), &format!("{name}-bad"), &["signature"]);
    }
}

#[test]
fn jst_check() {
    let sim = sim();
    let home = tempfile::tempdir().expect("tempdir");
    setup(home.path(), &["jst"]);
    let c = &sim.config().credentials.jst;
    let settings = [("base_url", sim.origin()), ("app_key", c.app_key.as_str())];
    add(
        home.path(),
        "good",
        "jst",
        &settings,
        &[
            ("app_secret", &c.app_secret),
            ("access_token", &c.access_token),
        ],
    );
    add(
        home.path(),
        "bad",
        "jst",
        &settings,
        &[
            ("app_secret", "WRONG-secret"),
            ("access_token", &c.access_token),
        ],
    );
    assert_works(home.path(), "good");
    assert_auth_failure(home.path(), "bad", &["签名错误"]);
}

#[test]
fn jackyun_check() {
    let sim = sim();
    let home = tempfile::tempdir().expect("tempdir");
    setup(home.path(), &["jackyun"]);
    let c = &sim.config().credentials.jackyun;
    let settings = [("base_url", sim.origin()), ("appkey", c.appkey.as_str())];
    add(
        home.path(),
        "good",
        "jackyun",
        &settings,
        &[("secret", &c.secret)],
    );
    add(
        home.path(),
        "bad",
        "jackyun",
        &settings,
        &[("secret", "WRONG-secret")],
    );
    assert_works(home.path(), "good");
    assert_auth_failure(home.path(), "bad", &["0858030801"]);
}

#[test]
fn k3cloud_check_in_both_auth_modes() {
    let sim = sim();
    let home = tempfile::tempdir().expect("tempdir");
    setup(home.path(), &["k3cloud"]);
    let c = &sim.config().credentials.k3cloud;
    let url = sim.k3cloud_url();
    let session = [
        ("base_url", url.as_str()),
        ("auth_mode", "session"),
        ("acctid", c.acct_id.as_str()),
        ("username", c.username.as_str()),
    ];
    add(
        home.path(),
        "session-good",
        "k3cloud",
        &session,
        &[("password", &c.password)],
    );
    add(
        home.path(),
        "session-bad",
        "k3cloud",
        &session,
        &[("password", "WRONG-secret")],
    );
    let signed = [
        ("base_url", url.as_str()),
        ("auth_mode", "signed"),
        ("acctid", c.acct_id.as_str()),
        ("username", c.username.as_str()),
    ];
    add(
        home.path(),
        "signed-good",
        "k3cloud",
        &signed,
        &[("appid", &c.app_id), ("appsecret", &c.app_secret)],
    );
    add(
        home.path(),
        "signed-bad",
        "k3cloud",
        &signed,
        &[
            ("appid", &c.app_id),
            ("appsecret", "0123456789abcdef0123456789abcdef"),
        ],
    );
    assert_works(home.path(), "session-good");
    assert_auth_failure(home.path(), "session-bad", &["password"]);
    assert_works(home.path(), "signed-good");
    assert_auth_failure(home.path(), "signed-bad", &["appsecret"]);
}

#[test]
fn jdy_check() {
    let sim = sim();
    let home = tempfile::tempdir().expect("tempdir");
    setup(home.path(), &["jdy"]);
    let c = &sim.config().credentials.jdy;
    let settings = [
        ("base_url", sim.origin()),
        ("client_id", c.client_id.as_str()),
        ("app_key", c.app_key.as_str()),
    ];
    add(
        home.path(),
        "good",
        "jdy",
        &settings,
        &[
            ("client_secret", &c.client_secret),
            ("app_secret", &c.app_secret),
        ],
    );
    add(
        home.path(),
        "bad",
        "jdy",
        &settings,
        &[
            ("client_secret", &c.client_secret),
            ("app_secret", "WRONG-secret"),
        ],
    );
    assert_works(home.path(), "good");
    assert_auth_failure(home.path(), "bad", &["app_secret"]);
}

#[test]
fn a_connection_without_the_loopback_grant_is_refused_by_the_sandbox() {
    let sim = sim();
    let home = tempfile::tempdir().expect("tempdir");
    setup(home.path(), &["wdt"]);
    let c = &sim.config().credentials.wdt;
    let args = [
        "connection",
        "add",
        "locked",
        "--tenant",
        "acme",
        "--plugin",
        "wdt",
        "--set",
        &format!("base_url={}", sim.origin()),
        "--set",
        &format!("sid={}", c.sid),
        "--set",
        &format!("appkey={}", c.appkey),
        "--secret",
        &format!("appsecret={}", c.appsecret),
    ];
    let r = weft(home.path(), &args);
    assert_eq!(r.code, 0, "{r:?}");
    let r = check(home.path(), "locked");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("egress denied") && r.stderr.contains("loopback"),
        "{}",
        r.stderr
    );
}

#[test]
fn connection_add_validates_against_the_connector_and_hides_secrets() {
    let home = tempfile::tempdir().expect("tempdir");
    setup(home.path(), &["wdt"]);
    let r = weft(
        home.path(),
        &[
            "connection",
            "add",
            "w",
            "--tenant",
            "acme",
            "--plugin",
            "wdt",
            "--set",
            "appsecret=visible",
            "--set",
            "colour=red",
            "--set",
            "base_url=not a url",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    for expected in [
        "'appsecret' is a secret: pass it with --secret",
        "'colour' is not a field of connector wdt",
        "'base_url': 'not a url' is not an http(s) URL",
        "'sid' (",
    ] {
        assert!(
            r.stderr.contains(expected),
            "missing '{expected}': {}",
            r.stderr
        );
    }
    let r = weft(
        home.path(),
        &[
            "connection",
            "add",
            "w",
            "--tenant",
            "acme",
            "--plugin",
            "wdt",
            "--set",
            "sid=s",
            "--set",
            "appkey=k",
            "--secret",
            "appsecret=TOP-SECRET-VALUE",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    for args in [
        vec!["connection", "list", "--tenant", "acme"],
        vec!["connection", "list", "--tenant", "acme", "--json"],
    ] {
        let r = weft(home.path(), &args);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("appsecret"), "{r:?}");
        assert!(
            !r.stdout.contains("TOP-SECRET-VALUE"),
            "secret printed: {}",
            r.stdout
        );
    }
    let db = std::fs::read(home.path().join("weft.db")).expect("database");
    let wal = std::fs::read(home.path().join("weft.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !bytes.windows(16).any(|w| w == b"TOP-SECRET-VALUE"),
            "secret stored in clear"
        );
    }
    let r = weft(home.path(), &["connection", "list", "--tenant", "nobody"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("tenant 'nobody' not found"),
        "{}",
        r.stderr
    );
}
