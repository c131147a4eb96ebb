//! `tessera admin …`: everyday admin tasks from the command line. Each subcommand is
//! one admin API call, sent to the same router in process (no server needed, no second
//! implementation of any rule), authenticated as the local operator: the `CliCaller`
//! request extension, which no network client can set. The audit log records `cli`.

use crate::cli::fatal::Fatal;
use crate::runtime::state::AppState;
use axum::body::Body;
use axum::http::Request;
use clap::{Args, Subcommand};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Marks a request as coming from `tessera admin` on this machine.
#[derive(Debug, Clone, Copy)]
pub struct CliCaller;

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Print the API's JSON response instead of a summary
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub task: Task,
}

#[derive(Debug, Subcommand)]
pub enum Task {
    /// Create a tenant
    AddTenant {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Delete a tenant and everything it holds (cannot be undone)
    DeleteTenant {
        #[arg(long)]
        tenant: String,
        /// The tenant's slug again, to confirm
        #[arg(long)]
        confirm: String,
    },
    /// Create a user
    AddUser {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input (keeps it out of the
        /// process list and shell history)
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Set a new password for a user (read from standard input): a temporary one, which
    /// the user must change before signing in, unless --permanent
    ResetPassword {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        /// The password is the user's own: no change is asked for
        #[arg(long)]
        permanent: bool,
    },
    /// End every SSO session of a user and revoke their refresh tokens
    RevokeSessions {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
    /// Unlock a user's account locked by failed sign-ins (smart lockout)
    UnlockUser {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
    /// Forget a user's authenticator app and recovery codes, so they enrol again
    ResetMfa {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
    /// Register an app
    AddApp {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        name: String,
        /// A `web` redirect URI (repeat for several)
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
    },
    /// Add a client secret to an app; prints it once
    AddSecret {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
        /// RFC 3339 expiry, e.g. 2027-01-01T00:00:00Z
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// Rotate a tenant's signing keys
    RotateKeys {
        #[arg(long)]
        tenant: String,
    },
    /// Show every sign-in event of a request, by the trace id an error page shows, and
    /// of the sign-in it belongs to, in any tenant
    Trace {
        /// The trace id (32 hex digits)
        trace_id: String,
    },
    /// Show the master key ring: its keys and how many values at rest each sealed
    MasterKey {
        /// Move every value at rest under the ring's first key (after the new key was
        /// put first in the master key file of every node)
        #[arg(long)]
        reseal: bool,
    },
}

fn read_password() -> Result<String, Fatal> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| Fatal {
        message: format!("cannot read the password from standard input: {e}"),
        status: 2,
    })?;
    let pw = line.trim_end_matches(['\r', '\n']).to_owned();
    if pw.is_empty() {
        return Err(Fatal {
            message: "no password on standard input".into(),
            status: 2,
        });
    }
    Ok(pw)
}

/// The API call for a task: method, path, body.
fn request(task: &Task) -> Result<(&'static str, String, Option<Value>), Fatal> {
    Ok(match task {
        Task::AddTenant { slug, display_name } => (
            "POST",
            "/admin/api/v1/tenants".into(),
            Some(json!({"slug": slug, "display_name": display_name})),
        ),
        Task::DeleteTenant { tenant, confirm } => (
            "DELETE",
            format!("/admin/api/v1/tenants/{tenant}?confirm={confirm}"),
            None,
        ),
        Task::AddUser {
            tenant,
            username,
            password_stdin,
            email,
            name,
        } => {
            let password = if *password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            (
                "POST",
                format!("/admin/api/v1/tenants/{tenant}/users"),
                Some(
                    json!({"username": username, "password": password, "email": email, "name": name}),
                ),
            )
        }
        Task::ResetPassword {
            tenant,
            username,
            permanent,
        } => (
            "POST",
            format!("/admin/api/v1/tenants/{tenant}/users/{username}/password"),
            Some(json!({"password": read_password()?, "temporary": !permanent})),
        ),
        Task::RevokeSessions { tenant, username } => (
            "DELETE",
            format!("/admin/api/v1/tenants/{tenant}/users/{username}/sessions"),
            None,
        ),
        Task::UnlockUser { tenant, username } => (
            "DELETE",
            format!("/admin/api/v1/tenants/{tenant}/users/{username}/lockout"),
            None,
        ),
        Task::ResetMfa { tenant, username } => (
            "DELETE",
            format!("/admin/api/v1/tenants/{tenant}/users/{username}/mfa"),
            None,
        ),
        Task::AddApp {
            tenant,
            client_id,
            name,
            redirect_uris,
        } => (
            "POST",
            format!("/admin/api/v1/tenants/{tenant}/apps"),
            Some(
                json!({"client_id": client_id, "name": name, "redirect_uris": {"web": redirect_uris}}),
            ),
        ),
        Task::AddSecret {
            tenant,
            client_id,
            expires_at,
        } => (
            "POST",
            format!("/admin/api/v1/tenants/{tenant}/apps/{client_id}/secrets"),
            Some(json!({"expires_at": expires_at})),
        ),
        Task::RotateKeys { tenant } => (
            "POST",
            format!("/admin/api/v1/tenants/{tenant}/keys/rotate"),
            None,
        ),
        Task::Trace { trace_id } => (
            "GET",
            format!(
                "/admin/api/v1/traces/{}",
                url::form_urlencoded::byte_serialize(trace_id.as_bytes()).collect::<String>()
            ),
            None,
        ),
        Task::MasterKey { reseal: false } => ("GET", "/admin/api/v1/master-key".into(), None),
        Task::MasterKey { reseal: true } => {
            ("POST", "/admin/api/v1/master-key/reseal".into(), None)
        }
    })
}

/// `public_url`: the configured public URL, when there is one; without it the server
/// names its issuers after the address it binds, which this command cannot know.
fn summary(task: &Task, v: &Value, public_url: Option<&str>) -> String {
    match task {
        Task::AddTenant { .. } => match public_url {
            Some(_) => format!(
                "created tenant {} (issuer {})",
                v["slug"].as_str().unwrap_or(""),
                v["issuer"].as_str().unwrap_or("")
            ),
            None => format!(
                "created tenant {0} (its issuer is the server's public URL followed by /{0}; \
                 set public_url in the config file or TESSERA_PUBLIC_URL to see it in full)",
                v["slug"].as_str().unwrap_or("")
            ),
        },
        Task::DeleteTenant { tenant, .. } => {
            format!("deleted tenant {tenant} and everything it held")
        }
        Task::AddUser { tenant, .. } => format!(
            "created user {} in {tenant}",
            v["username"].as_str().unwrap_or("")
        ),
        Task::ResetPassword {
            username,
            permanent,
            ..
        } => {
            let kind = if *permanent {
                ""
            } else {
                " (temporary: they choose their own before signing in)"
            };
            format!("set a new password for {username}{kind}")
        }
        Task::RevokeSessions { username, .. } => format!(
            "revoked {} session(s) and {} refresh token(s) of {username}",
            v["sessions"].as_u64().unwrap_or(0),
            v["refresh_tokens"].as_u64().unwrap_or(0)
        ),
        Task::UnlockUser { username, .. } => format!("unlocked {username}"),
        Task::ResetMfa { username, .. } => format!(
            "reset the second factor of {username}: they sign in with their password and enrol again where required"
        ),
        Task::AddApp { .. } => format!("registered app {}", v["client_id"].as_str().unwrap_or("")),
        Task::AddSecret { client_id, .. } => format!(
            "new secret for {client_id} (id {}); shown once, store it now:\n{}",
            v["id"].as_str().unwrap_or(""),
            v["value"].as_str().unwrap_or("")
        ),
        Task::RotateKeys { tenant } => format!("rotated the signing keys of {tenant}"),
        Task::Trace { trace_id } => trace_summary(trace_id, v),
        Task::MasterKey { .. } => ring_summary(v),
    }
}

/// A trace's events, oldest first, one line each.
fn trace_summary(trace_id: &str, v: &Value) -> String {
    let events = v["items"].as_array().cloned().unwrap_or_default();
    if events.is_empty() {
        return format!("no sign-in event with the trace id {trace_id}");
    }
    let text = |e: &Value, k: &str| e[k].as_str().unwrap_or("-").to_owned();
    events
        .iter()
        .rev()
        .map(|e| {
            let outcome = match e["code"].as_str() {
                Some(code) => format!("{} {code} {}", text(e, "outcome"), text(e, "error")),
                None => text(e, "outcome"),
            };
            format!(
                "{} {} {} {outcome} user={} app={} from={} agent={:?} trace={}",
                text(e, "at"),
                text(e, "tenant"),
                text(e, "step"),
                text(e, "user"),
                text(e, "app"),
                text(e, "client_address"),
                text(e, "user_agent"),
                text(e, "trace_id"),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The ring's status in a few lines.
fn ring_summary(v: &Value) -> String {
    let list = |key: &str| -> String {
        v[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let sealed = v["sealed"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let mut out = format!(
        "ring (the first seals): {}\nvalues at rest by sealing key: {sealed}\nto re-seal: {}; unopenable with this ring: {}",
        list("ring"),
        v["to_reseal"],
        v["unopenable"]
    );
    if let Some(until) = v["older_keys_needed_until"].as_str() {
        out.push_str(&format!(
            "\nlast re-seal: {} under {}; refresh tokens sealed under older keys may be presented until {until}",
            v["resealed_at"].as_str().unwrap_or(""),
            v["resealed_under"].as_str().unwrap_or("")
        ));
    }
    out
}

/// Runs one admin task; returns what to print.
pub async fn run(
    state: AppState,
    args: &AdminArgs,
    public_url: Option<&str>,
) -> Result<String, Fatal> {
    let (method, path, body) = request(&args.task)?;
    let mut req = Request::builder().method(method).uri(&path);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let mut req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .map_err(|e| Fatal {
            message: format!("cannot build the request: {e}"),
            status: 2,
        })?;
    req.extensions_mut().insert(CliCaller);
    let response = crate::app(state).oneshot(req).await.map_err(|e| Fatal {
        message: format!("the request failed: {e}"),
        status: 1,
    })?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_success() {
        if args.json {
            return Ok(if value.is_null() {
                "{}".to_owned()
            } else {
                serde_json::to_string_pretty(&value).unwrap_or_default()
            });
        }
        return Ok(summary(&args.task, &value, public_url));
    }
    if args.json {
        // The problem document, as the API sent it, with the failing status.
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    }
    let mut message = format!(
        "{}: {}",
        value["code"].as_str().unwrap_or("error"),
        value["detail"].as_str().unwrap_or("the request failed")
    );
    for e in value["errors"].as_array().into_iter().flatten() {
        message.push_str(&format!(
            "\n  {}: {}",
            e["field"].as_str().unwrap_or(""),
            e["message"].as_str().unwrap_or("")
        ));
    }
    Err(Fatal {
        message,
        status: if status.is_server_error() { 1 } else { 2 },
    })
}
