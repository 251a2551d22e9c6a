//! The SMS channel through Kannel. Kannel's `sms-service` calls `/sms/kannel/inbound` for each
//! SMS and sends our answer body back as the reply; delivery reports come to `/sms/kannel/dlr`.
//! Every inbound SMS is stored first (sealed number, raw text), then understood: an `ALERTE`
//! becomes a report through the same intake as every channel; nothing is dropped.

use crate::auth::same_secret;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Duration;
use serde::Deserialize;
use sha2::Digest;
use vigie_domain::early_warning::report::{Channel, IdempotencyKey, LocationInput, ReportInput, ReportPolicy, ReporterKind};
use vigie_domain::phone::Phone;
use vigie_domain::sms::{self as grammar, RefCode, SmsCommand, SmsMsg, SmsStatus};
use vigie_domain::Lang;
use vigie_storage::audit::Actor;
use vigie_storage::reports::{self, Sender};
use vigie_storage::{StoreError, StoreResult};

/// More SMS than this from one number in `FLOOD_WINDOW` are stored but not answered.
pub const FLOOD_LIMIT: i64 = 20;
pub const FLOOD_WINDOW_MINUTES: i64 = 10;

pub fn router() -> Router<AppState> {
    Router::new().route("/sms/kannel/inbound", get(inbound)).route("/sms/kannel/dlr", get(dlr))
}

#[derive(Deserialize)]
pub struct Inbound {
    from: String,
    #[serde(default)]
    text: String,
    /// Kannel's message id: a retry carries the same one.
    id: Option<String>,
    key: Option<String>,
}

fn key_ok(s: &AppState, key: Option<&str>) -> bool {
    match (&s.config.sms_inbound_key, key) {
        (Some(expected), Some(given)) => same_secret(expected, given),
        _ => false,
    }
}

/// The reply as Kannel wants it: the body is the SMS; UCS-2 when the text is not GSM-7.
fn reply(text: Option<String>) -> Response {
    let text = text.unwrap_or_default();
    let mut res = (StatusCode::OK, text.clone()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    if grammar::SmsEncoding::of(&text).kannel_coding() == 2 {
        res.headers_mut().insert("x-kannel-coding", HeaderValue::from_static("2"));
    }
    res
}

async fn inbound(State(s): State<AppState>, Query(q): Query<Inbound>) -> Response {
    if !key_ok(&s, q.key.as_deref()) {
        return StatusCode::FORBIDDEN.into_response();
    }
    match handle_inbound(&s, &q).await {
        Ok(text) => reply(text),
        Err(e) => {
            // Not acknowledged: Kannel keeps the SMS and tries again.
            tracing::error!(error = %e, "inbound SMS not stored");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

fn kind_of(cmd: &SmsCommand) -> &'static str {
    match cmd {
        SmsCommand::Alert(_) => "alert",
        SmsCommand::Info { .. } => "info",
        SmsCommand::FollowUp { .. } => "follow_up",
        SmsCommand::Help { .. } => "help",
        SmsCommand::Stop { .. } => "stop",
        SmsCommand::Unparsed { .. } => "unparsed",
    }
}

/// Stores and understands one SMS; returns the reply text (None: no reply).
pub async fn handle_inbound(s: &AppState, q: &Inbound) -> StoreResult<Option<String>> {
    let now = s.now();
    // A number we cannot read is kept as sent (operators send names like "Orange").
    let from = Phone::parse(&q.from).map(|p| p.as_str().to_string()).unwrap_or_else(|_| q.from.trim().to_string());
    let taxonomy = vigie_storage::categories::taxonomy(&s.db).await?;
    let gazetteer = reports::gazetteer(&s.db).await?;
    let cmd = grammar::parse(&q.text, &taxonomy, &gazetteer);
    let lang = cmd.lang();
    let flooding = vigie_storage::sms::inbound_count_since(&s.db, &from, now - Duration::minutes(FLOOD_WINDOW_MINUTES)).await? >= FLOOD_LIMIT;

    let kind = if flooding { "flood" } else { kind_of(&cmd) };
    let key = report_key(q.id.as_deref());
    let actor = Actor::system("sms");
    let anonymous = Sender { user_id: None, phone: Some(from.clone()) };

    // What the SMS becomes is decided before it is stored, so that the SMS, its report and the
    // link between them are written in one commit of the intake writer.
    let mut question = None;
    let report: Option<(ReportInput, Sender, Actor)> = match &cmd {
        _ if flooding => None,
        SmsCommand::Alert(a) if !a.is_empty() => {
            // A registered focal point is recognised by number; anyone else is an anonymous reporter.
            let (reporter, sender) = match vigie_storage::users::by_phone(&s.db, &from).await? {
                Some(uid) => (ReporterKind::FocalPoint, Sender { user_id: Some(uid), phone: Some(from.clone()) }),
                None => (ReporterKind::Anonymous, anonymous.clone()),
            };
            let input = ReportInput {
                category: a.category.as_ref().map(|c| c.code.as_str().to_string()),
                text: report_text(&q.text),
                occurred_at: now,
                location: LocationInput {
                    area: a.place.as_ref().filter(|p| p.areas.len() == 1).map(|p| p.areas[0].to_string()),
                    point: None,
                    place_name: a.place.as_ref().filter(|p| p.areas.len() != 1).map(|p| p.written.clone()),
                },
                reporter,
                channel: Channel::Sms,
                language: lang.code().into(),
                idempotency_key: key,
            };
            Some((input, sender, actor))
        }
        SmsCommand::Info { text, .. } if !text.trim().is_empty() => Some((raw_report(s, q, "other", lang, key), anonymous, actor)),
        SmsCommand::Unparsed { .. } => {
            // An answer to an analyst's question threads under that report; anything else is
            // kept as a raw report for an analyst to read.
            question = reports::open_question_for_phone(&s.db, &from, now).await?;
            question.is_none().then(|| (raw_report(s, q, "", lang, key), anonymous, actor))
        }
        _ => None,
    };
    let inbound = vigie_storage::sms::Inbound { gateway_id: q.id.as_deref(), from: &from, text: &q.text, kind, now };
    let Some((inbox_id, report)) = vigie_storage::sms::receive(&s.db, inbound, report).await? else {
        // A retry of an SMS we stored already: the first answer was lost, answer nothing new.
        return Ok(None);
    };
    if flooding {
        return Ok(None);
    }
    let reference = || report.as_ref().map(|r| r.reference.clone()).ok_or_else(|| StoreError::Other("SMS report not written".into()));
    let msg: SmsMsg = match &cmd {
        SmsCommand::Alert(a) if a.is_empty() => SmsMsg::ReplyAlertTypes { keywords: taxonomy.hint() },
        SmsCommand::Alert(a) => {
            let reference = RefCode::parse(&reference()?).unwrap_or_else(|_| RefCode::from_bytes([0; 5]));
            grammar::reply_alert(a, &reference, &taxonomy)
        }
        SmsCommand::Info { text, .. } => {
            if text.trim().is_empty() {
                SmsMsg::ReplyInfoEmpty
            } else {
                grammar::reply_info(RefCode::parse(&reference()?).ok().as_ref())
            }
        }
        SmsCommand::FollowUp { reference, written, .. } => {
            let found = match reference {
                Some(r) => reports::by_reference_for_phone(&s.db, &r.to_string(), &from).await?,
                None => None,
            };
            match (reference, found) {
                (Some(r), Some((_, alert_id))) => {
                    let status = match alert_id {
                        Some(a) => status_of(&vigie_storage::alerts::get(&s.db, a).await?.state),
                        None => SmsStatus::Received,
                    };
                    grammar::reply_follow_up(written, Some((r, status, None)))
                }
                // Unknown, or someone else's: the same answer, so a code reveals nothing.
                _ => grammar::reply_follow_up(written, None),
            }
        }
        SmsCommand::Help { .. } => SmsMsg::ReplyHelp,
        SmsCommand::Stop { .. } => SmsMsg::ReplyStopped,
        SmsCommand::Unparsed { raw } => match question {
            Some(report_id) => {
                let mut tx = s.db.begin().await?;
                reports::record_answer(&mut tx, &s.db, report_id, raw, now).await?;
                vigie_storage::sms::link_inbound_report(&mut tx, inbox_id, report_id).await?;
                tx.commit().await?;
                SmsMsg::ReplyInfoReceived { reference: reports::get(&s.db, report_id).await?.reference }
            }
            None => SmsMsg::ReplyNotUnderstood,
        },
    };
    Ok(Some(msg.sms(lang).text))
}

/// The report's idempotency key: the gateway's id, so that a retry is the same report. An id
/// that cannot be a key (too long, spaces) is hashed rather than refused: a refusal would be
/// answered 503 and Kannel would retry the same SMS for ever.
fn report_key(gateway_id: Option<&str>) -> String {
    match gateway_id {
        Some(id) => match IdempotencyKey::parse(&format!("sms-{id}")) {
            Ok(key) => key.as_str().to_string(),
            Err(_) => format!("sms-h-{}", hex::encode(sha2::Sha256::digest(id.as_bytes()))),
        },
        // Without the gateway's id nothing tells a retry from a new SMS: the key is new each time.
        None => format!("sms-nogw-{}", hex::encode(rand::random::<[u8; 12]>())),
    }
}

/// The report's text: the SMS, cut to the longest text a report holds. A longer SMS (hundreds of
/// concatenated parts) is still stored whole in the SMS inbox, linked to its report. A refused
/// report would leave the SMS unseen and answered 503, and Kannel would retry it for ever.
fn report_text(sms: &str) -> String {
    grammar::clip_marked(sms, ReportPolicy::default().max_text_chars, " […]")
}

/// A message that is not an alert, kept as a report for triage.
fn raw_report(s: &AppState, q: &Inbound, category: &str, lang: Lang, key: String) -> ReportInput {
    ReportInput {
        category: (!category.is_empty()).then(|| category.to_string()),
        text: report_text(&q.text),
        occurred_at: s.now(),
        location: LocationInput::default(),
        reporter: ReporterKind::Anonymous,
        channel: Channel::Sms,
        language: lang.code().into(),
        idempotency_key: key,
    }
}

fn status_of(state: &str) -> SmsStatus {
    match state {
        "reported" => SmsStatus::Received,
        "verified" => SmsStatus::UnderReview,
        "alerted" => SmsStatus::Escalated,
        "acknowledged" | "responded" => SmsStatus::Responding,
        "closed" => SmsStatus::Resolved,
        "false_alarm" | "cancelled" => SmsStatus::NotRetained,
        _ => SmsStatus::Received,
    }
}

#[derive(Deserialize)]
pub struct Dlr {
    out: i64,
    status: i32,
    key: Option<String>,
}

async fn dlr(State(s): State<AppState>, Query(q): Query<Dlr>) -> StatusCode {
    if !key_ok(&s, q.key.as_deref()) {
        return StatusCode::FORBIDDEN;
    }
    match vigie_storage::sms::record_dlr(&s.db, q.out, q.status, s.now()).await {
        Ok(true) => StatusCode::OK,
        Ok(false) => StatusCode::NOT_FOUND,
        Err(e) => {
            tracing::error!(error = %e, "dlr");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gateway_id_gives_a_valid_and_stable_key() {
        assert_eq!(report_key(Some("5d2c-77")), "sms-5d2c-77");
        for id in ["x".repeat(300), "deux mots".into(), "\u{e9}t\u{e9}".into()] {
            let key = report_key(Some(&id));
            assert!(IdempotencyKey::parse(&key).is_ok(), "{key}");
            assert_eq!(key, report_key(Some(&id)), "a retry carries the same id, so the same key");
        }
        assert_ne!(report_key(Some(&"x".repeat(300))), report_key(Some(&"x".repeat(301))));
        assert!(IdempotencyKey::parse(&report_key(None)).is_ok());
        assert_ne!(report_key(None), report_key(None));
    }

    #[test]
    fn a_report_holds_at_most_the_policy_text() {
        let max = ReportPolicy::default().max_text_chars;
        assert_eq!(report_text("INFO pont coupé"), "INFO pont coupé");
        let exact = "é".repeat(max);
        assert_eq!(report_text(&exact), exact);
        let long = report_text(&"é".repeat(max + 1));
        assert_eq!(long.chars().count(), max);
        assert!(long.ends_with(" […]"));
    }
}
