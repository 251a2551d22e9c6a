//! Case workflows as data. A [`WorkflowDef`] is a checked state machine: every state is
//! reachable from the initial one, every open state can still reach a closing one, closing
//! states have no exits. [`transition`] is the only way a case changes state: it refuses an
//! undeclared move, an actor the transition does not name, or a missing required field; it
//! never changes state silently.

use super::msg::CaseMsg;
use crate::access::{Permission, Principal};
use crate::area::AreaPath;
use crate::Lang;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Longest deadline a state may carry: ten years. Beyond that it is a typo.
pub const MAX_DEADLINE_DAYS: u32 = 3650;

/// A text in both languages of Vigie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub fr: String,
    pub en: String,
}

impl Label {
    pub fn new(fr: &str, en: &str) -> Self {
        Label { fr: fr.to_string(), en: en.to_string() }
    }
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => &self.fr,
            Lang::En => &self.en,
        }
    }
    fn is_complete(&self) -> bool {
        let ok = |s: &str| !s.trim().is_empty() && s.chars().count() <= 200 && !s.chars().any(char::is_control);
        ok(&self.fr) && ok(&self.en)
    }
}

/// A field a case of this kind may carry. `identity` fields name or locate a person
/// (reporter, victim, witness): storage encrypts them and exports redact them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub key: String,
    pub label: Label,
    #[serde(default)]
    pub identity: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateDef {
    pub key: String,
    pub label: Label,
    /// A closing state: the case leaves the handlers' queues and can no longer move.
    #[serde(default)]
    pub terminal: bool,
    /// Cases in this state may be counted, under this state's label, on the public
    /// transparency page (and the label shown to the reporter holding the receipt).
    #[serde(default)]
    pub public: bool,
    /// Days the case may stay in this state before it is overdue. None: no deadline.
    #[serde(default)]
    pub deadline_days: Option<u32>,
    /// Fields that must be filled before a case may enter this state.
    #[serde(default)]
    pub required_fields: Vec<String>,
}

/// Who may take a transition: holders of a permission (`{"permission": "cases.handle"}`)
/// or of a named role (`{"role": "case_supervisor"}`), over the case's area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Allowed {
    Permission(String),
    Role(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionDef {
    pub from: String,
    pub to: String,
    pub allowed: Vec<Allowed>,
}

/// A workflow as written by an admin (JSON), before checking. Build a [`WorkflowDef`] from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSpec {
    pub key: String,
    pub label: Label,
    pub initial: String,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    pub states: Vec<StateDef>,
    pub transitions: Vec<TransitionDef>,
}

/// A checked workflow. Only [`WorkflowDef::new`] (or deserialising, which calls it) makes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WorkflowSpec", into = "WorkflowSpec")]
pub struct WorkflowDef {
    spec: WorkflowSpec,
}

/// State, field and workflow keys: lowercase ASCII letter first, then letters, digits,
/// underscores; 2..=48. They end up in URLs, JSON keys and SQL values.
fn valid_key(k: &str) -> bool {
    (2..=48).contains(&k.len())
        && k.as_bytes()[0].is_ascii_lowercase()
        && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl WorkflowDef {
    /// Checks the spec and reports every problem at once, so an admin fixes a file in one go.
    pub fn new(spec: WorkflowSpec) -> Result<WorkflowDef, Vec<CaseMsg>> {
        let mut errs = Vec::new();
        if !valid_key(&spec.key) {
            errs.push(CaseMsg::InvalidKey { key: spec.key.clone() });
        }
        if !spec.label.is_complete() {
            errs.push(CaseMsg::EmptyLabel { key: spec.key.clone() });
        }

        let mut fields = BTreeSet::new();
        for f in &spec.fields {
            if !valid_key(&f.key) {
                errs.push(CaseMsg::InvalidKey { key: f.key.clone() });
            }
            if !f.label.is_complete() {
                errs.push(CaseMsg::EmptyLabel { key: f.key.clone() });
            }
            if !fields.insert(f.key.as_str()) {
                errs.push(CaseMsg::DuplicateField { field: f.key.clone() });
            }
        }

        if spec.states.is_empty() {
            errs.push(CaseMsg::NoStates);
        }
        let mut states = BTreeSet::new();
        for s in &spec.states {
            if !valid_key(&s.key) {
                errs.push(CaseMsg::InvalidKey { key: s.key.clone() });
            }
            if !s.label.is_complete() {
                errs.push(CaseMsg::EmptyLabel { key: s.key.clone() });
            }
            if !states.insert(s.key.as_str()) {
                errs.push(CaseMsg::DuplicateState { state: s.key.clone() });
            }
            match s.deadline_days {
                Some(_) if s.terminal => errs.push(CaseMsg::TerminalWithDeadline { state: s.key.clone() }),
                Some(d) if d == 0 || d > MAX_DEADLINE_DAYS => {
                    errs.push(CaseMsg::InvalidDeadline { state: s.key.clone(), max: MAX_DEADLINE_DAYS })
                }
                _ => {}
            }
            for f in &s.required_fields {
                if !fields.contains(f.as_str()) {
                    errs.push(CaseMsg::UnknownRequiredField { state: s.key.clone(), field: f.clone() });
                }
            }
        }
        let initial_known = states.contains(spec.initial.as_str());
        if !initial_known {
            errs.push(CaseMsg::NoInitialState { initial: spec.initial.clone() });
        }

        let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut seen_edges = BTreeSet::new();
        for t in &spec.transitions {
            let mut known = true;
            for end in [&t.from, &t.to] {
                if !states.contains(end.as_str()) {
                    errs.push(CaseMsg::UnknownStateInTransition { state: end.clone() });
                    known = false;
                }
            }
            if t.from == t.to {
                errs.push(CaseMsg::SelfTransition { state: t.from.clone() });
            }
            if !seen_edges.insert((t.from.as_str(), t.to.as_str())) {
                errs.push(CaseMsg::DuplicateTransition { from: t.from.clone(), to: t.to.clone() });
            }
            if t.allowed.is_empty() {
                errs.push(CaseMsg::TransitionWithoutActors { from: t.from.clone(), to: t.to.clone() });
            }
            for a in &t.allowed {
                match a {
                    Allowed::Permission(p) => {
                        if Permission::parse(p).is_err() {
                            errs.push(CaseMsg::UnknownPermission { name: p.clone() });
                        }
                    }
                    Allowed::Role(r) => {
                        if crate::access::parse_role_name(r).as_deref() != Ok(r.as_str()) {
                            errs.push(CaseMsg::InvalidRoleName { name: r.clone() });
                        }
                    }
                }
            }
            if known {
                edges.entry(t.from.as_str()).or_default().push(t.to.as_str());
            }
        }

        for s in &spec.states {
            let exits = edges.get(s.key.as_str()).map_or(0, Vec::len);
            if s.terminal && exits > 0 {
                errs.push(CaseMsg::TerminalWithExits { state: s.key.clone() });
            }
            if !s.terminal && exits == 0 {
                errs.push(CaseMsg::DeadEnd { state: s.key.clone() });
            }
        }

        if initial_known {
            // Forward: everything must be reachable from the initial state.
            let reach = reachable(spec.initial.as_str(), |s| edges.get(s).cloned().unwrap_or_default());
            for s in &spec.states {
                if !reach.contains(s.key.as_str()) {
                    errs.push(CaseMsg::UnreachableState { state: s.key.clone() });
                }
            }
        }
        // Backward: every open state must still be able to close (no trap cycles).
        let mut reverse: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (from, tos) in &edges {
            for to in tos {
                reverse.entry(*to).or_default().push(*from);
            }
        }
        let mut can_close = BTreeSet::new();
        for s in spec.states.iter().filter(|s| s.terminal) {
            can_close.extend(reachable(s.key.as_str(), |x| reverse.get(x).cloned().unwrap_or_default()));
        }
        if !spec.states.is_empty() && !spec.states.iter().any(|s| s.terminal) {
            errs.push(CaseMsg::NoTerminalState);
        }
        for s in &spec.states {
            let dead_end = !s.terminal && !edges.contains_key(s.key.as_str());
            if !dead_end && !can_close.contains(s.key.as_str()) && spec.states.iter().any(|s| s.terminal) {
                errs.push(CaseMsg::CannotFinish { state: s.key.clone() });
            }
        }

        if errs.is_empty() {
            Ok(WorkflowDef { spec })
        } else {
            Err(errs)
        }
    }

    /// Parses and checks a workflow written in JSON.
    pub fn from_json(text: &str) -> Result<WorkflowDef, Vec<CaseMsg>> {
        let spec: WorkflowSpec =
            serde_json::from_str(text).map_err(|e| vec![CaseMsg::InvalidWorkflowJson { reason: e.to_string() }])?;
        WorkflowDef::new(spec)
    }

    pub fn spec(&self) -> &WorkflowSpec {
        &self.spec
    }
    pub fn key(&self) -> &str {
        &self.spec.key
    }
    pub fn label(&self) -> &Label {
        &self.spec.label
    }
    pub fn initial(&self) -> &StateDef {
        self.state(&self.spec.initial).expect("checked at construction")
    }
    pub fn states(&self) -> &[StateDef] {
        &self.spec.states
    }
    pub fn fields(&self) -> &[FieldDef] {
        &self.spec.fields
    }
    pub fn transitions(&self) -> &[TransitionDef] {
        &self.spec.transitions
    }
    pub fn state(&self, key: &str) -> Option<&StateDef> {
        self.spec.states.iter().find(|s| s.key == key)
    }
    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.spec.fields.iter().find(|f| f.key == key)
    }
    /// Transitions out of `state`, for the case screen's buttons (filter with [`Actor::may`]).
    pub fn exits<'a>(&'a self, state: &'a str) -> impl Iterator<Item = &'a TransitionDef> + 'a {
        self.spec.transitions.iter().filter(move |t| t.from == state)
    }
    /// The transitions this actor may take from `state`: what the UI should offer.
    pub fn exits_for<'a>(&'a self, state: &'a str, actor: &'a Actor) -> impl Iterator<Item = &'a TransitionDef> + 'a {
        self.exits(state).filter(move |t| actor.may(t))
    }
}

fn reachable<'a>(start: &'a str, next: impl Fn(&'a str) -> Vec<&'a str>) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::from([start]);
    let mut queue = VecDeque::from([start]);
    while let Some(s) = queue.pop_front() {
        for n in next(s) {
            if seen.insert(n) {
                queue.push_back(n);
            }
        }
    }
    seen
}

impl TryFrom<WorkflowSpec> for WorkflowDef {
    type Error = String;
    fn try_from(spec: WorkflowSpec) -> Result<Self, String> {
        WorkflowDef::new(spec).map_err(|es| es.iter().map(|e| e.text(Lang::En)).collect::<Vec<_>>().join(" "))
    }
}
impl From<WorkflowDef> for WorkflowSpec {
    fn from(d: WorkflowDef) -> WorkflowSpec {
        d.spec
    }
}

/// What the person moving a case holds over the case's area.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub roles: BTreeSet<String>,
    pub permissions: BTreeSet<Permission>,
}

impl Actor {
    /// Roles and permissions of the grants that cover `area` (the case's area). A grant on
    /// another region does not count, so a Mopti handler cannot move a Kidal case.
    pub fn for_area(who: &Principal, area: &AreaPath) -> Actor {
        let mut a = Actor::default();
        for g in who.grants.iter().filter(|g| g.area.contains(area)) {
            a.roles.insert(g.role.clone());
            a.permissions.extend(g.permissions.iter().copied());
        }
        a
    }
    pub fn may(&self, t: &TransitionDef) -> bool {
        t.allowed.iter().any(|a| match a {
            Allowed::Permission(p) => Permission::parse(p).is_ok_and(|p| self.permissions.contains(&p)),
            Allowed::Role(r) => self.roles.contains(r),
        })
    }
}

/// Keys of the fields that hold a value: not null, not blank text, not an empty list or object.
/// Storage passes the case's fields as they will be after the update being made.
pub fn provided_fields(values: &serde_json::Map<String, serde_json::Value>) -> BTreeSet<String> {
    use serde_json::Value;
    values
        .iter()
        .filter(|(_, v)| match v {
            Value::Null => false,
            Value::String(s) => !s.trim().is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            Value::Bool(_) | Value::Number(_) => true,
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// Why a case could not move. Each maps to one HTTP status at the server: UnknownState 404/422,
/// Closed and IllegalTransition 409, Forbidden 403, MissingFields 422.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseError {
    UnknownState { state: String },
    Closed { state: String },
    IllegalTransition { from: String, to: String },
    Forbidden { from: String, to: String },
    MissingFields { state: String, fields: Vec<String> },
}

impl CaseError {
    /// The message for a person, with the workflow's own labels.
    pub fn msg(&self, def: &WorkflowDef) -> CaseMsg {
        let state_label = |k: &str| def.state(k).map(|s| s.label.clone()).unwrap_or_else(|| Label::new(k, k));
        match self {
            CaseError::UnknownState { state } => CaseMsg::UnknownState { state: state.clone() },
            CaseError::Closed { state } => CaseMsg::CaseClosed { state: state_label(state) },
            CaseError::IllegalTransition { from, to } => {
                CaseMsg::IllegalTransition { from: state_label(from), to: state_label(to) }
            }
            CaseError::Forbidden { to, .. } => CaseMsg::TransitionForbidden { to: state_label(to) },
            CaseError::MissingFields { fields, .. } => CaseMsg::MissingFields {
                fields: fields
                    .iter()
                    .map(|f| def.field(f).map(|d| d.label.clone()).unwrap_or_else(|| Label::new(f, f)))
                    .collect(),
            },
        }
    }
}

/// A state change that may be stored: the new state, when it was entered and its deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransitionOutcome {
    /// None when the case is being opened.
    pub from: Option<String>,
    pub to: String,
    pub at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    pub terminal: bool,
    pub public: bool,
}

fn enter(from: Option<&str>, to: &StateDef, provided: &BTreeSet<String>, now: DateTime<Utc>) -> Result<TransitionOutcome, CaseError> {
    let missing: Vec<String> = to.required_fields.iter().filter(|f| !provided.contains(*f)).cloned().collect();
    if !missing.is_empty() {
        return Err(CaseError::MissingFields { state: to.key.clone(), fields: missing });
    }
    Ok(TransitionOutcome {
        from: from.map(str::to_string),
        to: to.key.clone(),
        at: now,
        deadline: to.deadline_days.map(|d| now + Duration::days(i64::from(d))),
        terminal: to.terminal,
        public: to.public,
    })
}

/// Opens a case in the workflow's initial state. Who may open (the public through the
/// intake form, or a handler) is the server's decision; the initial state's required fields
/// are checked here.
pub fn open_case(def: &WorkflowDef, provided: &BTreeSet<String>, now: DateTime<Utc>) -> Result<TransitionOutcome, CaseError> {
    enter(None, def.initial(), provided, now)
}

/// Moves a case from `from` to `to`, or says why not. `provided` are the keys of the case's
/// filled fields (see [`provided_fields`]).
pub fn transition(
    def: &WorkflowDef,
    from: &str,
    to: &str,
    actor: &Actor,
    provided: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> Result<TransitionOutcome, CaseError> {
    let from_state = def.state(from).ok_or_else(|| CaseError::UnknownState { state: from.to_string() })?;
    let to_state = def.state(to).ok_or_else(|| CaseError::UnknownState { state: to.to_string() })?;
    if from_state.terminal {
        return Err(CaseError::Closed { state: from.to_string() });
    }
    let t = def
        .exits(from)
        .find(|t| t.to == to)
        .ok_or_else(|| CaseError::IllegalTransition { from: from.to_string(), to: to.to_string() })?;
    if !actor.may(t) {
        return Err(CaseError::Forbidden { from: from.to_string(), to: to.to_string() });
    }
    enter(Some(from), to_state, provided, now)
}

/// True once a deadline has passed. A case without a deadline is never overdue.
pub fn is_overdue(deadline: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    deadline.is_some_and(|d| now > d)
}

/// Whole days past the deadline (0 on the day it passed), or None when not overdue.
pub fn overdue_days(deadline: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<i64> {
    deadline.filter(|d| now > *d).map(|d| (now - d).num_days())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn label(s: &str) -> Label {
        Label::new(s, s)
    }
    fn state(key: &str, terminal: bool) -> StateDef {
        StateDef { key: key.into(), label: label(key), terminal, public: false, deadline_days: None, required_fields: vec![] }
    }
    fn tr(from: &str, to: &str) -> TransitionDef {
        TransitionDef { from: from.into(), to: to.into(), allowed: vec![Allowed::Permission("cases.handle".into())] }
    }
    fn spec() -> WorkflowSpec {
        WorkflowSpec {
            key: "simple".into(),
            label: label("Simple"),
            initial: "open".into(),
            fields: vec![FieldDef { key: "reason".into(), label: Label::new("Motif", "Reason"), identity: false }],
            states: vec![
                StateDef { deadline_days: Some(10), ..state("open", false) },
                StateDef { required_fields: vec!["reason".into()], ..state("closed", true) },
            ],
            transitions: vec![tr("open", "closed")],
        }
    }
    fn handler() -> Actor {
        Actor { roles: BTreeSet::from(["case_handler".to_string()]), permissions: BTreeSet::from([Permission::CasesRead, Permission::CasesHandle]) }
    }
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
    }

    #[test]
    fn a_sound_spec_is_accepted() {
        assert!(WorkflowDef::new(spec()).is_ok());
    }

    #[test]
    fn structural_errors_are_all_reported() {
        let mut s = spec();
        s.transitions.push(tr("open", "nowhere"));
        let e = WorkflowDef::new(s).unwrap_err();
        assert!(e.contains(&CaseMsg::UnknownStateInTransition { state: "nowhere".into() }), "{e:?}");

        let mut s = spec();
        s.states.push(state("orphan", true));
        assert_eq!(WorkflowDef::new(s).unwrap_err(), vec![CaseMsg::UnreachableState { state: "orphan".into() }]);

        let mut s = spec();
        s.initial = "start".into();
        let e = WorkflowDef::new(s).unwrap_err();
        assert!(e.contains(&CaseMsg::NoInitialState { initial: "start".into() }), "{e:?}");

        let mut s = spec();
        s.transitions.push(tr("closed", "open"));
        assert_eq!(WorkflowDef::new(s).unwrap_err(), vec![CaseMsg::TerminalWithExits { state: "closed".into() }]);

        let mut s = spec();
        s.states[0].required_fields.push("victim_names".into());
        s.states[1].deadline_days = Some(3);
        let e = WorkflowDef::new(s).unwrap_err();
        assert!(e.contains(&CaseMsg::UnknownRequiredField { state: "open".into(), field: "victim_names".into() }));
        assert!(e.contains(&CaseMsg::TerminalWithDeadline { state: "closed".into() }));

        let mut s = spec();
        s.transitions[0].allowed = vec![Allowed::Permission("cases.everything".into()), Allowed::Role("Chef!".into())];
        let e = WorkflowDef::new(s).unwrap_err();
        assert!(e.contains(&CaseMsg::UnknownPermission { name: "cases.everything".into() }));
        assert!(e.contains(&CaseMsg::InvalidRoleName { name: "Chef!".into() }));
    }

    #[test]
    fn traps_and_dead_ends_are_refused() {
        // a <-> b loop with the only exit to `closed` missing from b's side: b can still
        // reach closed through a, so it is fine; a state that can only loop is not.
        let mut s = spec();
        s.states.push(state("limbo", false));
        s.states.push(state("purgatory", false));
        s.transitions.push(tr("open", "limbo"));
        s.transitions.push(tr("limbo", "purgatory"));
        s.transitions.push(tr("purgatory", "limbo"));
        let e = WorkflowDef::new(s).unwrap_err();
        assert_eq!(
            e,
            vec![CaseMsg::CannotFinish { state: "limbo".into() }, CaseMsg::CannotFinish { state: "purgatory".into() }]
        );

        let mut s = spec();
        s.states.push(state("stuck", false));
        s.transitions.push(tr("open", "stuck"));
        assert_eq!(WorkflowDef::new(s).unwrap_err(), vec![CaseMsg::DeadEnd { state: "stuck".into() }]);

        let mut s = spec();
        s.states[1].terminal = false;
        s.transitions.push(tr("closed", "open"));
        assert!(WorkflowDef::new(s).unwrap_err().contains(&CaseMsg::NoTerminalState));
    }

    #[test]
    fn json_round_trip_and_checked_deserialisation() {
        let def = WorkflowDef::new(spec()).unwrap();
        let text = serde_json::to_string(&def).unwrap();
        assert_eq!(WorkflowDef::from_json(&text).unwrap(), def);
        let bad = text.replace("\"initial\":\"open\"", "\"initial\":\"ouvert\"");
        assert_ne!(bad, text);
        assert!(serde_json::from_str::<WorkflowDef>(&bad).is_err());
        assert!(matches!(WorkflowDef::from_json("{\"key\":1}").unwrap_err()[0], CaseMsg::InvalidWorkflowJson { .. }));
        // A typo in an attribute name is an error, not a silently ignored line.
        let typo = text.replace("\"terminal\"", "\"terminale\"");
        assert!(WorkflowDef::from_json(&typo).is_err());
    }

    #[test]
    fn transition_checks_everything_and_sets_deadline() {
        let def = WorkflowDef::new(spec()).unwrap();
        let opened = open_case(&def, &BTreeSet::new(), now()).unwrap();
        assert_eq!(opened.to, "open");
        assert_eq!(opened.deadline, Some(Utc.with_ymd_and_hms(2026, 3, 12, 9, 0, 0).unwrap()));

        let none = BTreeSet::new();
        let with_reason = BTreeSet::from(["reason".to_string()]);
        assert_eq!(
            transition(&def, "open", "closed", &handler(), &none, now()),
            Err(CaseError::MissingFields { state: "closed".into(), fields: vec!["reason".into()] })
        );
        assert_eq!(
            transition(&def, "open", "closed", &Actor::default(), &with_reason, now()),
            Err(CaseError::Forbidden { from: "open".into(), to: "closed".into() })
        );
        assert_eq!(
            transition(&def, "open", "limbo", &handler(), &with_reason, now()),
            Err(CaseError::UnknownState { state: "limbo".into() })
        );
        let done = transition(&def, "open", "closed", &handler(), &with_reason, now()).unwrap();
        assert_eq!((done.from.as_deref(), done.to.as_str(), done.terminal, done.deadline), (Some("open"), "closed", true, None));
        assert_eq!(
            transition(&def, "closed", "open", &handler(), &with_reason, now()),
            Err(CaseError::Closed { state: "closed".into() })
        );
        let msg = CaseError::MissingFields { state: "closed".into(), fields: vec!["reason".into()] }.msg(&def);
        assert!(msg.text(Lang::Fr).contains("Motif") && msg.text(Lang::En).contains("Reason"));
    }

    #[test]
    fn overdue_after_the_deadline_only() {
        let d = Some(now());
        assert!(!is_overdue(d, now()));
        assert!(is_overdue(d, now() + Duration::seconds(1)));
        assert!(!is_overdue(None, now() + Duration::days(1000)));
        assert_eq!(overdue_days(d, now() + Duration::days(3) + Duration::hours(2)), Some(3));
        assert_eq!(overdue_days(d, now() - Duration::days(1)), None);
    }

    #[test]
    fn actor_only_counts_grants_covering_the_case_area() {
        use crate::access::Grant;
        let p = Principal {
            user_id: 1,
            username: "awa".into(),
            grants: vec![Grant {
                role: "case_handler".into(),
                permissions: BTreeSet::from([Permission::CasesHandle]),
                area: AreaPath("ML/ML-5".into()),
            }],
        };
        let t = tr("open", "closed");
        assert!(Actor::for_area(&p, &AreaPath("ML/ML-5/ML0501".into())).may(&t));
        assert!(!Actor::for_area(&p, &AreaPath("ML/ML-8".into())).may(&t));
    }

    #[test]
    fn provided_fields_ignore_blank_values() {
        let v = serde_json::json!({"a": "x", "b": "  ", "c": null, "d": [], "e": ["Awa"], "f": 0});
        let got = provided_fields(v.as_object().unwrap());
        assert_eq!(got, BTreeSet::from(["a", "e", "f"].map(String::from)));
    }
}
