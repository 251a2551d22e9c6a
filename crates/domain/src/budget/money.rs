//! Exact numbers for money and percentages. Never `f64`: a budget must add up to the dollar
//! the way the signed document does, and a rounding is something we choose and report.
//!
//! - [`Dec`]: a decimal (i128 mantissa, base-10 scale) read from French or English text.
//! - [`Ratio`]: an exact fraction, for percentages and rates, rounded only for display.
//! - [`Money`]: integer minor units of one ISO 4217 currency; arithmetic refuses to mix currencies.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// Why a number or an amount could not be read or computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MoneyError {
    /// Not a number in the expected style (`text` is what was read).
    NotANumber { text: String },
    /// `1,234` or `1.234` with no other clue: thousands or decimals? The caller must say.
    AmbiguousSeparator { text: String },
    /// More decimals than the currency (or the stated unit) allows; we do not round silently.
    TooPrecise { text: String, max_decimals: u32 },
    /// Two currencies in one operation with no exchange rate.
    CurrencyMismatch { left: String, right: String },
    /// An ISO 4217 code we do not know, or not three capital letters.
    UnknownCurrency { code: String },
    /// Beyond what the integer types hold (far beyond any real budget).
    Overflow,
    /// A percentage or rate of a zero amount.
    DivisionByZero,
    /// A rate given for another currency pair.
    WrongRate { expected: String, got: String },
}

/// How to round: chosen by the caller and reported with the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Banker's rounding: a half goes to the even neighbour (2.5 → 2, 3.5 → 4). No drift over many sums.
    HalfEven,
    /// Commercial rounding: a half goes away from zero (2.5 → 3, −2.5 → −3). What UN tables print.
    HalfUp,
    /// Toward zero (truncation).
    Down,
}

/// How decimal and thousands separators are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberStyle {
    /// `1 234 567,89` (space, no-break space, narrow no-break space or `.` between thousands).
    French,
    /// `1,234,567.89`.
    English,
    /// Guess from the text; a lone separator followed by exactly three digits is refused as ambiguous.
    Auto,
}

const MAX_SCALE: u32 = 18;

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// An exact decimal: `mantissa / 10^scale`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Dec {
    mantissa: i128,
    scale: u32,
}

impl Dec {
    pub const ZERO: Dec = Dec { mantissa: 0, scale: 0 };

    pub fn new(mantissa: i128, scale: u32) -> Result<Dec, MoneyError> {
        if scale > MAX_SCALE {
            return Err(MoneyError::Overflow);
        }
        Ok(Dec { mantissa, scale }.normalized())
    }
    pub fn from_int(n: i64) -> Dec {
        Dec { mantissa: n as i128, scale: 0 }
    }
    pub fn mantissa(&self) -> i128 {
        self.mantissa
    }
    pub fn scale(&self) -> u32 {
        self.scale
    }
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }
    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }
    /// Drops trailing zeros so that 1.50 and 1.5 print the same.
    fn normalized(mut self) -> Dec {
        while self.scale > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        self
    }
    fn at_scale(&self, scale: u32) -> Option<i128> {
        debug_assert!(scale >= self.scale);
        self.mantissa.checked_mul(pow10(scale - self.scale)?)
    }
    pub fn checked_add(&self, o: &Dec) -> Option<Dec> {
        let s = self.scale.max(o.scale);
        Some(Dec { mantissa: self.at_scale(s)?.checked_add(o.at_scale(s)?)?, scale: s }.normalized())
    }
    pub fn checked_sub(&self, o: &Dec) -> Option<Dec> {
        self.checked_add(&o.neg())
    }
    pub fn checked_mul(&self, o: &Dec) -> Option<Dec> {
        let d = Dec { mantissa: self.mantissa.checked_mul(o.mantissa)?, scale: self.scale + o.scale }.normalized();
        (d.scale <= MAX_SCALE).then_some(d)
    }
    pub fn neg(&self) -> Dec {
        Dec { mantissa: -self.mantissa, scale: self.scale }
    }
    pub fn to_ratio(&self) -> Ratio {
        Ratio::new(self.mantissa, pow10(self.scale).expect("scale is bounded")).expect("denominator is positive")
    }

    /// Reads a plain number such as `-1 234,5`, `1,234.5`, `+12`, `15%` is NOT accepted here
    /// (the caller strips units). Grouping separators must split the integer part into groups of three.
    pub fn parse(raw: &str, style: NumberStyle) -> Result<Dec, MoneyError> {
        let bad = || MoneyError::NotANumber { text: raw.trim().to_string() };
        let t = raw.trim();
        let (neg, body) = match t.chars().next() {
            Some('-') | Some('−') => (true, t[t.chars().next().unwrap().len_utf8()..].trim_start()),
            Some('+') => (false, t[1..].trim_start()),
            _ => (false, t),
        };
        if body.is_empty() {
            return Err(bad());
        }
        let is_space = |c: char| c == ' ' || c == '\u{a0}' || c == '\u{202f}' || c == '\'';
        let commas = body.matches(',').count();
        let dots = body.matches('.').count();
        let has_space = body.chars().any(is_space);
        let decimal: Option<char> = match style {
            NumberStyle::French => Some(','),
            NumberStyle::English => Some('.'),
            NumberStyle::Auto => {
                if commas > 0 && dots > 0 {
                    // The last separator is the decimal one, and it must occur once.
                    let last = if body.rfind(',') > body.rfind('.') { ',' } else { '.' };
                    if body.matches(last).count() > 1 {
                        return Err(bad());
                    }
                    Some(last)
                } else if commas + dots == 0 {
                    None
                } else {
                    let sep = if commas > 0 { ',' } else { '.' };
                    let count = commas + dots;
                    if count > 1 {
                        None // several: thousands separators
                    } else {
                        let after = body.rsplit(sep).next().unwrap_or("");
                        if after.len() == 3 && after.bytes().all(|b| b.is_ascii_digit()) && !has_space {
                            return Err(MoneyError::AmbiguousSeparator { text: t.to_string() });
                        }
                        Some(sep)
                    }
                }
            }
        };
        let (int_part, frac_part) = match decimal {
            Some(d) if body.matches(d).count() > 1 => return Err(bad()),
            Some(d) => match body.split_once(d) {
                Some((i, f)) => (i, Some(f)),
                None => (body, None),
            },
            None => (body, None),
        };
        // Grouping characters allowed in the integer part.
        let group_ok = |c: char| match style {
            NumberStyle::French => is_space(c) || c == '.',
            NumberStyle::English => c == ',' || is_space(c),
            NumberStyle::Auto => is_space(c) || (c == ',' || c == '.') && Some(c) != decimal,
        };
        let groups: Vec<&str> = int_part.split(group_ok).collect();
        if groups.iter().any(|g| g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit())) {
            return Err(bad());
        }
        if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
            return Err(bad());
        }
        let frac = match frac_part {
            Some(f) if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) => return Err(bad()),
            Some(f) => f,
            None => "",
        };
        let scale = frac.len() as u32;
        if scale > MAX_SCALE {
            return Err(MoneyError::Overflow);
        }
        let digits: String = groups.concat() + frac;
        let m: i128 = digits.parse().map_err(|_| MoneyError::Overflow)?;
        Ok(Dec { mantissa: if neg { -m } else { m }, scale }.normalized())
    }

    /// Text with grouping: `1 234 567,89` in French (no-break spaces), `1,234,567.89` in English.
    /// Shows at least `min_decimals` decimals (padding with zeros, never rounding).
    pub fn format(&self, lang: crate::Lang, min_decimals: u32) -> String {
        let scale = self.scale.max(min_decimals);
        let m = self.at_scale(scale).unwrap_or(self.mantissa);
        let digits = m.unsigned_abs().to_string();
        let digits = format!("{:0>width$}", digits, width = scale as usize + 1);
        let (int, frac) = digits.split_at(digits.len() - scale as usize);
        let (group, dec) = match lang {
            crate::Lang::Fr => ('\u{a0}', ','),
            crate::Lang::En => (',', '.'),
        };
        let mut out = String::new();
        if m < 0 {
            out.push('-');
        }
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                out.push(group);
            }
            out.push(c);
        }
        if !frac.is_empty() {
            out.push(dec);
            out.push_str(frac);
        }
        out
    }
}

impl PartialEq for Dec {
    fn eq(&self, o: &Dec) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Dec {}
impl PartialOrd for Dec {
    fn partial_cmp(&self, o: &Dec) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Dec {
    fn cmp(&self, o: &Dec) -> Ordering {
        self.to_ratio().cmp(&o.to_ratio())
    }
}
impl fmt::Display for Dec {
    /// Plain machine form: `-1234.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.format(crate::Lang::En, 0).replace(',', "");
        f.write_str(&s)
    }
}

/// An exact fraction `num / den` (den > 0, reduced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ratio {
    num: i128,
    den: i128,
}

impl Ratio {
    pub fn new(num: i128, den: i128) -> Result<Ratio, MoneyError> {
        if den == 0 {
            return Err(MoneyError::DivisionByZero);
        }
        let (mut n, mut d) = if den < 0 { (num.checked_neg().ok_or(MoneyError::Overflow)?, -den) } else { (num, den) };
        let g = gcd(n, d).max(1);
        n /= g;
        d /= g;
        Ok(Ratio { num: n, den: d })
    }
    pub fn from_int(n: i64) -> Ratio {
        Ratio { num: n as i128, den: 1 }
    }
    pub fn num(&self) -> i128 {
        self.num
    }
    pub fn den(&self) -> i128 {
        self.den
    }
    pub fn is_zero(&self) -> bool {
        self.num == 0
    }
    pub fn checked_add(&self, o: &Ratio) -> Result<Ratio, MoneyError> {
        let g = gcd(self.den, o.den);
        let l = (self.den / g).checked_mul(o.den).ok_or(MoneyError::Overflow)?;
        let a = self.num.checked_mul(l / self.den).ok_or(MoneyError::Overflow)?;
        let b = o.num.checked_mul(l / o.den).ok_or(MoneyError::Overflow)?;
        Ratio::new(a.checked_add(b).ok_or(MoneyError::Overflow)?, l)
    }
    pub fn checked_sub(&self, o: &Ratio) -> Result<Ratio, MoneyError> {
        self.checked_add(&Ratio { num: -o.num, den: o.den })
    }
    pub fn checked_mul(&self, o: &Ratio) -> Result<Ratio, MoneyError> {
        // Cross-reduce first to keep numbers small.
        let g1 = gcd(self.num, o.den).max(1);
        let g2 = gcd(o.num, self.den).max(1);
        let n = (self.num / g1).checked_mul(o.num / g2).ok_or(MoneyError::Overflow)?;
        let d = (self.den / g2).checked_mul(o.den / g1).ok_or(MoneyError::Overflow)?;
        Ratio::new(n, d)
    }
    pub fn checked_div(&self, o: &Ratio) -> Result<Ratio, MoneyError> {
        if o.num == 0 {
            return Err(MoneyError::DivisionByZero);
        }
        self.checked_mul(&Ratio::new(o.den, o.num)?)
    }
    /// This fraction as a percentage (× 100), still exact.
    pub fn to_percent(&self) -> Result<Ratio, MoneyError> {
        self.checked_mul(&Ratio::from_int(100))
    }

    /// Rounds to `scale` decimals and says how far the rounded value is from the exact one.
    pub fn round(&self, scale: u32, mode: RoundingMode) -> Result<Rounded<Dec>, MoneyError> {
        if scale > MAX_SCALE {
            return Err(MoneyError::Overflow);
        }
        let n = self.num.checked_mul(pow10(scale).ok_or(MoneyError::Overflow)?).ok_or(MoneyError::Overflow)?;
        let q = round_div(n, self.den, mode);
        let value = Dec { mantissa: q, scale }.normalized();
        let residual = value.to_ratio().checked_sub(self)?;
        Ok(Rounded { value, residual, mode })
    }
}

/// `n / d` (d > 0) rounded to an integer with `mode`.
fn round_div(n: i128, d: i128, mode: RoundingMode) -> i128 {
    let q = n / d; // toward zero
    let r = n % d; // same sign as n
    if r == 0 {
        return q;
    }
    let away = if n < 0 { q - 1 } else { q + 1 };
    let twice = r.unsigned_abs() * 2;
    let d = d.unsigned_abs();
    match mode {
        RoundingMode::Down => q,
        _ if twice > d => away,
        _ if twice < d => q,
        RoundingMode::HalfUp => away,
        RoundingMode::HalfEven => {
            if q % 2 == 0 {
                q
            } else {
                away
            }
        }
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, o: &Ratio) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ratio {
    fn cmp(&self, o: &Ratio) -> Ordering {
        // Denominators are positive; fall back to a slower exact compare if products overflow.
        match (self.num.checked_mul(o.den), o.num.checked_mul(self.den)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => {
                let (a, b) = (self.num as f64 / self.den as f64, o.num as f64 / o.den as f64);
                a.partial_cmp(&b).unwrap_or(Ordering::Equal)
            }
        }
    }
}

/// A rounded value, the mode used, and `residual = rounded − exact` so the gap can be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rounded<T> {
    pub value: T,
    pub residual: Ratio,
    pub mode: RoundingMode,
}

impl<T> Rounded<T> {
    pub fn was_rounded(&self) -> bool {
        !self.residual.is_zero()
    }
}

/// An ISO 4217 currency and the number of decimals of its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Currency {
    code: [u8; 3],
    minor_digits: u8,
}

impl Currency {
    pub const USD: Currency = Currency { code: *b"USD", minor_digits: 2 };
    pub const EUR: Currency = Currency { code: *b"EUR", minor_digits: 2 };
    /// CFA franc (BCEAO), Mali's currency: no minor unit in use.
    pub const XOF: Currency = Currency { code: *b"XOF", minor_digits: 0 };

    const KNOWN: [(&'static str, u8); 12] = [
        ("USD", 2),
        ("EUR", 2),
        ("XOF", 0),
        ("XAF", 0),
        ("GBP", 2),
        ("CHF", 2),
        ("CAD", 2),
        ("SEK", 2),
        ("NOK", 2),
        ("DKK", 2),
        ("JPY", 0),
        ("CNY", 2),
    ];

    /// A known code (`usd` is accepted and upper-cased).
    pub fn parse(raw: &str) -> Result<Currency, MoneyError> {
        let c = raw.trim().to_ascii_uppercase();
        Self::KNOWN
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(k, d)| Currency { code: k.as_bytes().try_into().expect("3 bytes"), minor_digits: *d })
            .ok_or(MoneyError::UnknownCurrency { code: raw.trim().to_string() })
    }
    /// Any other ISO code, with its minor digits stated by the caller (from configuration).
    pub fn custom(code: &str, minor_digits: u8) -> Result<Currency, MoneyError> {
        let b = code.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_uppercase) || minor_digits > 4 {
            return Err(MoneyError::UnknownCurrency { code: code.to_string() });
        }
        Ok(Currency { code: [b[0], b[1], b[2]], minor_digits })
    }
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).expect("ASCII")
    }
    pub fn minor_digits(&self) -> u32 {
        self.minor_digits as u32
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount: integer minor units (cents for USD, francs for XOF) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }
    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }
    /// Whole units (dollars, francs).
    pub fn from_major(units: i64, currency: Currency) -> Result<Money, MoneyError> {
        let f = 10i64.pow(currency.minor_digits());
        Ok(Money { minor: units.checked_mul(f).ok_or(MoneyError::Overflow)?, currency })
    }
    pub fn minor(&self) -> i64 {
        self.minor
    }
    pub fn currency(&self) -> Currency {
        self.currency
    }
    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }
    /// The amount as a decimal number of major units.
    pub fn to_dec(&self) -> Dec {
        Dec { mantissa: self.minor as i128, scale: self.currency.minor_digits() }.normalized()
    }
    pub fn to_ratio(&self) -> Ratio {
        self.to_dec().to_ratio()
    }
    /// An exact decimal amount; an error if it has more decimals than the currency's minor unit.
    pub fn from_dec(d: &Dec, currency: Currency) -> Result<Money, MoneyError> {
        let digits = currency.minor_digits();
        if d.scale > digits {
            return Err(MoneyError::TooPrecise { text: d.to_string(), max_decimals: digits });
        }
        let m = d.at_scale(digits).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor: i64::try_from(m).map_err(|_| MoneyError::Overflow)?, currency })
    }
    /// A computed amount (a rate applied, a conversion) rounded to the minor unit, with the rounding reported.
    pub fn from_ratio_rounded(r: &Ratio, currency: Currency, mode: RoundingMode) -> Result<Rounded<Money>, MoneyError> {
        Self::from_ratio_rounded_to(r, currency, currency.minor_digits(), mode)
    }
    /// Same, rounded to `decimals` (0 = whole dollars as the PROSMED table prints them).
    pub fn from_ratio_rounded_to(
        r: &Ratio,
        currency: Currency,
        decimals: u32,
        mode: RoundingMode,
    ) -> Result<Rounded<Money>, MoneyError> {
        let decimals = decimals.min(currency.minor_digits());
        let rd = r.round(decimals, mode)?;
        Ok(Rounded { value: Money::from_dec(&rd.value, currency)?, residual: rd.residual, mode })
    }

    /// Reads an amount as printed: `1 234 567,89`, `1,234,567.89`, `32 000 000`, `-` or `–` (nil = 0),
    /// `(2 513,7)` (negative, as UN tables print overruns), optionally with the currency code.
    /// `unit_exponent` says the printed figure is in 10^n units (3 for "thousands of dollars").
    pub fn parse(raw: &str, currency: Currency, style: NumberStyle, unit_exponent: u32) -> Result<Money, MoneyError> {
        let mut t = raw.trim().to_string();
        for suffix in [currency.code(), "US$", "$"] {
            if let Some(s) = t.strip_suffix(suffix) {
                t = s.trim().to_string();
            }
            if let Some(s) = t.strip_prefix(suffix) {
                t = s.trim().to_string();
            }
        }
        if matches!(t.as_str(), "-" | "–" | "—") {
            return Ok(Money::zero(currency));
        }
        // A different currency code written with the amount is refused, not ignored.
        let tail: String = t.chars().rev().take_while(|c| c.is_ascii_uppercase()).collect();
        if tail.len() == 3 {
            let code: String = tail.chars().rev().collect();
            return Err(MoneyError::CurrencyMismatch { left: currency.code().to_string(), right: code });
        }
        let (neg, body) = match t.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
            Some(inner) => (true, inner.trim()),
            None => (false, t.as_str()),
        };
        let d = Dec::parse(body, style)?;
        let d = if neg { d.neg() } else { d };
        let scaled = d.checked_mul(&Dec { mantissa: pow10(unit_exponent).ok_or(MoneyError::Overflow)?, scale: 0 }).ok_or(MoneyError::Overflow)?;
        Money::from_dec(&scaled, currency).map_err(|e| match e {
            MoneyError::TooPrecise { max_decimals, .. } => MoneyError::TooPrecise {
                text: raw.trim().to_string(),
                max_decimals: (max_decimals + unit_exponent),
            },
            e => e,
        })
    }

    fn same(&self, o: &Money) -> Result<(), MoneyError> {
        if self.currency == o.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch { left: self.currency.code().into(), right: o.currency.code().into() })
        }
    }
    pub fn checked_add(&self, o: &Money) -> Result<Money, MoneyError> {
        self.same(o)?;
        Ok(Money { minor: self.minor.checked_add(o.minor).ok_or(MoneyError::Overflow)?, currency: self.currency })
    }
    pub fn checked_sub(&self, o: &Money) -> Result<Money, MoneyError> {
        self.same(o)?;
        Ok(Money { minor: self.minor.checked_sub(o.minor).ok_or(MoneyError::Overflow)?, currency: self.currency })
    }
    pub fn checked_neg(&self) -> Result<Money, MoneyError> {
        Ok(Money { minor: self.minor.checked_neg().ok_or(MoneyError::Overflow)?, currency: self.currency })
    }
    /// Sum of amounts that must all be in `currency` (an empty sum is zero).
    pub fn sum<'a>(currency: Currency, items: impl IntoIterator<Item = &'a Money>) -> Result<Money, MoneyError> {
        items.into_iter().try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }
    /// `self / whole` as an exact fraction (same currency; `whole` not zero).
    pub fn ratio_of(&self, whole: &Money) -> Result<Ratio, MoneyError> {
        self.same(whole)?;
        Ratio::new(self.minor as i128, whole.minor as i128)
    }
    /// `self / whole × 100`, exact; round it with [`Ratio::round`] for display.
    pub fn percent_of(&self, whole: &Money) -> Result<Ratio, MoneyError> {
        self.ratio_of(whole)?.to_percent()
    }
    /// Applies a rate (0.08 for 8 %) and rounds to the minor unit.
    pub fn apply_rate(&self, rate: &Ratio, mode: RoundingMode) -> Result<Rounded<Money>, MoneyError> {
        let exact = self.to_ratio().checked_mul(rate)?;
        Money::from_ratio_rounded(&exact, self.currency, mode)
    }
    /// Converts with an explicit rate; there is no implicit conversion anywhere.
    pub fn convert(&self, rate: &ExchangeRate, mode: RoundingMode) -> Result<Rounded<Money>, MoneyError> {
        if rate.from != self.currency {
            return Err(MoneyError::WrongRate {
                expected: format!("{}→{}", self.currency, rate.to),
                got: format!("{}→{}", rate.from, rate.to),
            });
        }
        let exact = self.to_ratio().checked_mul(&rate.rate.to_ratio())?;
        Money::from_ratio_rounded(&exact, rate.to, mode)
    }
    /// `1 234 567,89 USD` / `1,234,567.89 USD`, with all the currency's decimals.
    pub fn format(&self, lang: crate::Lang) -> String {
        format!("{} {}", self.to_dec().format(lang, self.currency.minor_digits()), self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_dec(), self.currency)
    }
}

/// `1 from = rate to`, as agreed for a report (e.g. the UN operational rate of the month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRate {
    pub from: Currency,
    pub to: Currency,
    pub rate: Dec,
}

impl ExchangeRate {
    pub fn new(from: Currency, to: Currency, rate: Dec) -> Result<ExchangeRate, MoneyError> {
        if rate.is_zero() || rate.is_negative() || from == to {
            return Err(MoneyError::NotANumber { text: rate.to_string() });
        }
        Ok(ExchangeRate { from, to, rate })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD, NumberStyle::Auto, 0).unwrap()
    }

    #[test]
    fn parses_french_and_english_amounts() {
        assert_eq!(Money::parse("1 234 567,89", Currency::USD, NumberStyle::French, 0).unwrap().minor(), 123_456_789);
        assert_eq!(Money::parse("1,234,567.89", Currency::USD, NumberStyle::English, 0).unwrap().minor(), 123_456_789);
        assert_eq!(usd("1 234 567,89").minor(), 123_456_789);
        assert_eq!(usd("1,234,567.89").minor(), 123_456_789);
        assert_eq!(usd("1.234.567,89").minor(), 123_456_789);
        assert_eq!(usd("32 000 000").minor(), 3_200_000_000);
        assert_eq!(usd("32\u{a0}000\u{202f}000 USD").minor(), 3_200_000_000);
        assert_eq!(usd("-").minor(), 0);
        assert_eq!(usd("–").minor(), 0);
        assert_eq!(usd("(2 513,7)").minor(), -251_370);
        assert_eq!(usd("-12,5").minor(), -1_250);
        // Thousands of dollars with one decimal, as the MINUSMA tables print them: exact.
        let k = Money::parse("1 183 384,7", Currency::USD, NumberStyle::French, 3).unwrap();
        assert_eq!(k.minor(), 118_338_470_000);
        assert_eq!(k.format(Lang::En), "1,183,384,700.00 USD");
    }

    #[test]
    fn refuses_what_it_cannot_read_for_sure() {
        assert!(matches!(Money::parse("1,234", Currency::USD, NumberStyle::Auto, 0), Err(MoneyError::AmbiguousSeparator { .. })));
        // With the style given, the same text is read both ways.
        assert_eq!(Money::parse("1,234", Currency::USD, NumberStyle::English, 0).unwrap().minor(), 123_400);
        assert!(matches!(Money::parse("1,234", Currency::USD, NumberStyle::French, 0), Err(MoneyError::TooPrecise { .. })));
        assert!(Money::parse("12 34", Currency::USD, NumberStyle::French, 0).is_err());
        assert!(Money::parse("abc", Currency::USD, NumberStyle::Auto, 0).is_err());
        assert!(Money::parse("1,2,3.4,5", Currency::USD, NumberStyle::Auto, 0).is_err());
        assert!(Money::parse("", Currency::USD, NumberStyle::Auto, 0).is_err());
        assert!(matches!(Money::parse("1,5", Currency::XOF, NumberStyle::French, 0), Err(MoneyError::TooPrecise { .. })));
        assert!(matches!(Money::parse("1 000 EUR", Currency::USD, NumberStyle::French, 0), Err(MoneyError::CurrencyMismatch { .. })));
    }

    #[test]
    fn arithmetic_is_checked() {
        let a = usd("10,25");
        let b = Money::from_major(3, Currency::USD).unwrap();
        assert_eq!(a.checked_add(&b).unwrap().minor(), 1_325);
        assert_eq!(a.checked_sub(&b).unwrap().minor(), 725);
        let x = Money::from_major(1, Currency::XOF).unwrap();
        assert!(matches!(a.checked_add(&x), Err(MoneyError::CurrencyMismatch { .. })));
        let max = Money::from_minor(i64::MAX, Currency::USD);
        assert_eq!(max.checked_add(&b), Err(MoneyError::Overflow));
        assert_eq!(Money::sum(Currency::USD, &[a, b, a]).unwrap().minor(), 2_350);
    }

    #[test]
    fn rounding_modes_differ_on_halves_only() {
        let half = Ratio::new(5, 2).unwrap(); // 2.5
        assert_eq!(half.round(0, RoundingMode::HalfEven).unwrap().value, Dec::from_int(2));
        assert_eq!(half.round(0, RoundingMode::HalfUp).unwrap().value, Dec::from_int(3));
        let mhalf = Ratio::new(-5, 2).unwrap();
        assert_eq!(mhalf.round(0, RoundingMode::HalfUp).unwrap().value, Dec::from_int(-3));
        assert_eq!(mhalf.round(0, RoundingMode::HalfEven).unwrap().value, Dec::from_int(-2));
        assert_eq!(Ratio::new(7, 2).unwrap().round(0, RoundingMode::HalfEven).unwrap().value, Dec::from_int(4));
        let r = Ratio::new(2, 3).unwrap().round(2, RoundingMode::HalfEven).unwrap();
        assert_eq!(r.value, Dec::parse("0.67", NumberStyle::English).unwrap());
        assert!(r.was_rounded());
        assert_eq!(r.residual, Ratio::new(1, 300).unwrap());
        assert_eq!(Ratio::new(2, 3).unwrap().round(2, RoundingMode::Down).unwrap().value.to_string(), "0.66");
        assert!(!Ratio::new(1, 4).unwrap().round(2, RoundingMode::HalfUp).unwrap().was_rounded());
    }

    #[test]
    fn percentages_are_exact_then_rounded() {
        // MINUSMA military observers: 844,4 / 2 165,6 = 38.99…% → 39,0
        let v = Money::parse("844,4", Currency::USD, NumberStyle::French, 3).unwrap();
        let a = Money::parse("2 165,6", Currency::USD, NumberStyle::French, 3).unwrap();
        let p = v.percent_of(&a).unwrap();
        assert_eq!(p, Ratio::new(844_4 * 100, 2_165_6).unwrap());
        assert_eq!(p.round(1, RoundingMode::HalfUp).unwrap().value.format(Lang::Fr, 1), "39,0");
        assert_eq!(v.percent_of(&Money::zero(Currency::USD)), Err(MoneyError::DivisionByZero));
        // 8 % of 6 830 477 = 546 438,16 → the PROSMED table prints 546 438.
        let base = Money::from_major(6_830_477, Currency::USD).unwrap();
        let gms = base.apply_rate(&Ratio::new(8, 100).unwrap(), RoundingMode::HalfUp).unwrap();
        assert_eq!(gms.value.minor(), 54_643_816);
        let whole = Money::from_ratio_rounded_to(&base.to_ratio().checked_mul(&Ratio::new(8, 100).unwrap()).unwrap(), Currency::USD, 0, RoundingMode::HalfUp).unwrap();
        assert_eq!(whole.value, Money::from_major(546_438, Currency::USD).unwrap());
        assert_eq!(whole.residual, Ratio::new(-16, 100).unwrap());
    }

    #[test]
    fn conversion_needs_the_right_rate() {
        let fcfa = Money::from_major(655_957, Currency::XOF).unwrap();
        let rate = ExchangeRate::new(Currency::XOF, Currency::EUR, Dec::parse("0.001524490", NumberStyle::English).unwrap()).unwrap();
        let eur = fcfa.convert(&rate, RoundingMode::HalfEven).unwrap();
        assert_eq!(eur.value.format(Lang::Fr), "1\u{a0}000,00 EUR");
        assert!(eur.was_rounded());
        let usd_amount = usd("10");
        assert!(matches!(usd_amount.convert(&rate, RoundingMode::HalfEven), Err(MoneyError::WrongRate { .. })));
        assert!(ExchangeRate::new(Currency::XOF, Currency::XOF, Dec::from_int(1)).is_err());
        assert!(ExchangeRate::new(Currency::XOF, Currency::EUR, Dec::ZERO).is_err());
    }

    #[test]
    fn decimals_compare_by_value_and_format_per_language() {
        let a = Dec::parse("1.50", NumberStyle::English).unwrap();
        let b = Dec::parse("1,5", NumberStyle::French).unwrap();
        assert_eq!(a, b);
        assert!(Dec::parse("-0,1", NumberStyle::French).unwrap() < Dec::ZERO);
        assert_eq!(Dec::parse("1234567.5", NumberStyle::English).unwrap().format(Lang::En, 2), "1,234,567.50");
        assert_eq!(Dec::parse("-1234", NumberStyle::English).unwrap().format(Lang::Fr, 0), "-1\u{a0}234");
        assert_eq!(Currency::parse("xof").unwrap().minor_digits(), 0);
        assert!(Currency::parse("ZZZ").is_err());
        assert!(Currency::custom("MRU", 2).is_ok());
    }
}
