//! Kubernetes quantities (`500m`, `2`, `4Gi`, `1e9`, `10M`) and Go durations (`300ms`, `2h45m`).
//!
//! Use these to read the text of one scalar into a unit of `crate::units`; the caller adds the
//! YAML path to any error. Arithmetic is exact (integers, never floating point) until the final
//! conversion, so `0.1` CPU is exactly 100m. This file does not know which fields take which
//! unit, nor range rules beyond the unit itself (a zero CPU request is a valid quantity).

use crate::scenario::error::Problem;
use crate::units::{Bytes, Millicores, SimDuration};

/// Parses a Go duration such as `300ms`, `1.5h`, `2h45m`, `15s`, `10us` or `0`.
///
/// Units are `ns`, `us` (or `µs`), `ms`, `s`, `m` and `h`; components add up. Durations are
/// held in microseconds, so a duration finer than 1us is an error, as are negative durations
/// and a bare number other than 0.
///
/// # Errors
/// A one-line message quoting `text`, then `; ` and the accepted form.
///
/// # Examples
/// ```
/// use capsim::scenario::parse_duration;
/// use capsim::units::SimDuration;
/// assert_eq!(parse_duration("2h45m"), Ok(SimDuration::from_secs(2 * 3600 + 45 * 60)));
/// assert!(parse_duration("15").unwrap_err().contains("needs a unit"));
/// ```
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    duration(text).map_err(|p| p.to_string())
}

const DURATION_FORM: &str = "expected a Go duration such as \"300ms\", \"15s\", \"1.5h\" or \"2h45m\" (units ns, us, ms, s, m, h)";

const TOO_LONG: &str =
    "expected a duration of at most 8760000h (1000 years), such as \"15s\" or \"2h45m\"";

/// `parse_duration` with its error in two halves.
pub(crate) fn duration(text: &str) -> Result<SimDuration, Problem> {
    let bad = |why: &str| Problem::new(format!("\"{text}\" {why}"), DURATION_FORM);
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if body == "0" {
        return Ok(SimDuration::ZERO);
    }
    if body.is_empty() {
        return Err(bad("is not a duration"));
    }
    let numeric = |b: u8| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-');
    if body.bytes().all(numeric) && body.parse::<f64>().is_ok() {
        return Err(bad("needs a unit"));
    }
    let mut rest = body;
    let mut total_ns: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit_ns: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(bad("has a number without a unit")),
            _ => return Err(bad(&format!("has unknown unit \"{unit}\""))),
        };
        let Some(decimal) = Decimal::parse(number) else {
            return Err(bad("is not a duration"));
        };
        let Some(ns) = decimal.times(unit_ns) else {
            return Err(Problem::new(format!("\"{text}\" is too long"), TOO_LONG));
        };
        let Exact(ns) = ns else {
            return Err(bad("is finer than 1us, the simulator's time step"));
        };
        total_ns = total_ns
            .checked_add(ns)
            .ok_or_else(|| Problem::new(format!("\"{text}\" is too long"), TOO_LONG))?;
        rest = after;
    }
    if negative && total_ns > 0 {
        return Err(Problem::new(
            format!("\"{text}\" is negative"),
            "expected a duration >= 0, such as \"300ms\", \"15s\", \"1.5h\" or \"2h45m\"",
        ));
    }
    if !total_ns.is_multiple_of(1_000) {
        return Err(bad("is finer than 1us, the simulator's time step"));
    }
    let micros = total_ns / 1_000;
    if micros > u128::from(MAX_DURATION.0) {
        return Err(Problem::new(format!("\"{text}\" is too long"), TOO_LONG));
    }
    // Checked just above: micros <= MAX_DURATION, a u64.
    Ok(SimDuration(u64::try_from(micros).unwrap_or(MAX_DURATION.0)))
}

/// The longest duration a scenario may write: 1000 years. Far beyond any run, and small enough
/// that sums of a few durations (a spike's start plus its length) cannot overflow `u64`.
pub(crate) const MAX_DURATION: SimDuration = SimDuration(1_000 * 8_760 * 3_600 * 1_000_000);

const CPU_FORM: &str =
    "expected cores such as \"2\" or \"0.5\", or millicores such as \"500m\" (at least 1m steps)";

/// Parses a CPU quantity (`500m`, `2`, `0.5`, `2.5`, `1e-3`) into millicores.
///
/// Negative amounts, amounts finer than 1m and non-quantities are errors.
pub(crate) fn cpu(text: &str) -> Result<Millicores, Problem> {
    let q = Quantity::parse(text)
        .ok_or_else(|| Problem::new(format!("\"{text}\" is not a cpu quantity"), CPU_FORM))?;
    if q.negative && q.mantissa > 0 {
        return Err(Problem::new(format!("\"{text}\" is negative"), CPU_FORM));
    }
    match q.scaled(3) {
        Some(Exact(m)) => u64::try_from(m)
            .map(Millicores)
            .map_err(|_| Problem::new(format!("\"{text}\" is too large"), CPU_FORM)),
        Some(Inexact(_)) => Err(Problem::new(
            format!("\"{text}\" is finer than 1m"),
            CPU_FORM,
        )),
        None => Err(Problem::new(format!("\"{text}\" is too large"), CPU_FORM)),
    }
}

/// Parses a CPU quantity as the API server stores it: a fraction of a millicore rounds up to
/// the next millicore (`0.0001` is `1m`), as Kubernetes' `MilliValue` does.
pub(crate) fn cpu_rounded_up(text: &str) -> Result<Millicores, Problem> {
    rounded_up(text, 3, "a cpu quantity", CPU_FORM).map(Millicores)
}

/// A non-negative quantity in units of 10^-`scale` (3: millis, 0: whole), a fraction of a
/// unit rounded up as Kubernetes rounds quantities; `what` and `form` word the errors.
fn rounded_up(text: &str, scale: i32, what: &str, form: &str) -> Result<u64, Problem> {
    let q = Quantity::parse(text)
        .ok_or_else(|| Problem::new(format!("\"{text}\" is not {what}"), form))?;
    if q.negative && q.mantissa > 0 {
        return Err(Problem::new(format!("\"{text}\" is negative"), form));
    }
    let too_large = || Problem::new(format!("\"{text}\" is too large"), form);
    let units = match q.scaled(scale).ok_or_else(too_large)? {
        Exact(u) => u,
        Inexact(u) => u.checked_add(1).ok_or_else(too_large)?,
    };
    u64::try_from(units).map_err(|_| too_large())
}

const MEMORY_FORM: &str = "expected bytes such as \"128974848\" or \"1e9\", or a suffix: \
     Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024) or k, M, G, T, P, E (powers of 1000), as in \"4Gi\"";

/// Parses a memory quantity (`4Gi`, `512Mi`, `1G`, `1e9`, `128974848`) into bytes.
///
/// A fraction of a byte is rounded up, as Kubernetes does; negatives are errors.
pub(crate) fn memory(text: &str) -> Result<Bytes, Problem> {
    rounded_up(text, 0, "a memory quantity", MEMORY_FORM).map(Bytes)
}

const COUNT_FORM: &str = "expected a number >= 0 such as \"10000000\", \"1e7\", \"10M\" or \"0.5\" (suffixes k, M, G, T)";

/// Whether `name` names an extended resource as Kubernetes tells them apart: `<domain>/<name>`
/// with a domain outside `kubernetes.io` (`nvidia.com/gpu`).
pub(crate) fn is_extended_resource(name: &str) -> bool {
    name.split_once('/').is_some_and(|(domain, resource)| {
        !domain.is_empty()
            && !resource.is_empty()
            && domain != "kubernetes.io"
            && !domain.ends_with(".kubernetes.io")
    })
}

/// A whole number of units of an extended resource (`1`, `"2"`): Kubernetes allows no
/// fractions of one.
pub(crate) fn extended_amount(text: &str) -> Result<u64, Problem> {
    text.parse::<u64>().map_err(|_| {
        Problem::new(
            format!("\"{text}\" is not a whole number"),
            "expected a whole number of units, as Kubernetes requires of extended resources",
        )
    })
}

/// Parses a count (`10M`, `1e7`, `10000000`, `0.5`) into a non-negative finite number.
pub(crate) fn count(text: &str) -> Result<f64, Problem> {
    let q = Quantity::parse(text)
        .ok_or_else(|| Problem::new(format!("\"{text}\" is not a number"), COUNT_FORM))?;
    if q.negative && q.mantissa > 0 {
        return Err(Problem::new(format!("\"{text}\" is negative"), COUNT_FORM));
    }
    let value = format!("{}e{}", q.mantissa, q.exp10)
        .parse::<f64>()
        .map(|v| v * 2f64.powi(q.exp2 as i32));
    match value {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(Problem::new(format!("\"{text}\" is too large"), COUNT_FORM)),
    }
}

/// The result of an exact scaling: either an integer, or the integer part of a value with a
/// non-zero fraction.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scaled {
    Exact(u128),
    Inexact(u128),
}
use Scaled::{Exact, Inexact};

/// A non-negative decimal number as digits and a power of ten: `12.5` is 125 x 10^-1.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Decimal {
    mantissa: u128,
    exp10: i32,
}

/// Significant digits a mantissa may hold (u128 holds 38).
const MAX_DIGITS: usize = 36;

impl Decimal {
    /// Reads `<digits>`, `<digits>.<digits>`, `<digits>.` or `.<digits>`.
    fn parse(text: &str) -> Option<Decimal> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        let digits = format!("{int}{frac}");
        let digits = digits.trim_start_matches('0');
        let significant = digits.trim_end_matches('0');
        let trailing_zeros = digits.len() - significant.len();
        if significant.len() > MAX_DIGITS {
            return None;
        }
        let mantissa = if significant.is_empty() {
            0
        } else {
            significant.parse::<u128>().ok()?
        };
        let exp10 = i32::try_from(trailing_zeros).ok()? - i32::try_from(frac.len()).ok()?;
        Some(Decimal { mantissa, exp10 })
    }

    /// `self x factor`, exactly; `None` on overflow.
    fn times(self, factor: u128) -> Option<Scaled> {
        scale(self.mantissa.checked_mul(factor)?, self.exp10)
    }
}

/// `value x 10^exp10` as an integer part and whether a fraction remains; `None` on overflow.
fn scale(value: u128, exp10: i32) -> Option<Scaled> {
    if exp10 >= 0 {
        let factor = 10u128.checked_pow(exp10.unsigned_abs())?;
        return value.checked_mul(factor).map(Exact);
    }
    match 10u128.checked_pow(exp10.unsigned_abs()) {
        Some(divisor) if value.is_multiple_of(divisor) => Some(Exact(value / divisor)),
        Some(divisor) => Some(Inexact(value / divisor)),
        // The divisor exceeds any mantissa: the value is a non-zero fraction below one, or zero.
        None if value == 0 => Some(Exact(0)),
        None => Some(Inexact(0)),
    }
}

/// A Kubernetes quantity: `<sign><number><suffix>` with value
/// `mantissa x 10^exp10 x 2^exp2`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Quantity {
    negative: bool,
    mantissa: u128,
    exp10: i32,
    exp2: u32,
}

impl Quantity {
    /// Reads Kubernetes' quantity grammar: a signed decimal number followed by a binary SI
    /// suffix (Ki..Ei), a decimal SI suffix (n u m k M G T P E) or a decimal exponent (`e3`).
    fn parse(text: &str) -> Option<Quantity> {
        let (negative, body) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let number_len = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (number, suffix) = body.split_at(number_len);
        let decimal = Decimal::parse(number)?;
        let (exp10, exp2) = match suffix {
            "" => (0, 0),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            "Ki" => (0, 10),
            "Mi" => (0, 20),
            "Gi" => (0, 30),
            "Ti" => (0, 40),
            "Pi" => (0, 50),
            "Ei" => (0, 60),
            _ => {
                let exponent = suffix.strip_prefix(['e', 'E'])?;
                let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (exponent.parse::<i32>().ok()?.clamp(-1000, 1000), 0)
            }
        };
        Some(Quantity {
            negative,
            mantissa: decimal.mantissa,
            exp10: decimal.exp10 + exp10,
            exp2,
        })
    }

    /// The value times `10^decimals`, exactly; `None` on overflow.
    fn scaled(self, decimals: i32) -> Option<Scaled> {
        let value = self.mantissa.checked_mul(1u128.checked_shl(self.exp2)?)?;
        scale(value, self.exp10 + decimals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GI: u64 = 1 << 30;
    const MI: u64 = 1 << 20;

    #[test]
    fn cpu_quantities() {
        let good = [
            ("500m", 500),
            ("2", 2_000),
            ("0.5", 500),
            ("2.5", 2_500),
            (".1", 100),   // leading dot, as Kubernetes accepts
            ("1.", 1_000), // trailing dot
            ("0", 0),
            ("+3", 3_000),
            ("1e-3", 1),           // a decimal exponent: 10^-3 cores
            ("1000000u", 1_000),   // a micro-core suffix that is a whole number of millicores
            ("0.001", 1),          // exactly one millicore
            ("1k", 1_000_000),     // 1000 cores
            ("007", 7_000),        // leading zeros
            ("2.500000000", 2500), // trailing zeros of a fraction
        ];
        for (text, millicores) in good {
            assert_eq!(cpu(text), Ok(Millicores(millicores)), "{text}");
        }
        let bad = [
            ("lots", "is not a cpu quantity"),
            ("", "is not a cpu quantity"),
            ("-1", "is negative"),
            ("0.0005", "is finer than 1m"),
            ("1.5m", "is finer than 1m"),
            ("2 cores", "is not a cpu quantity"),
            ("2c", "is not a cpu quantity"),
            ("1e", "is not a cpu quantity"),
            ("1..2", "is not a cpu quantity"),
            ("1e30", "is too large"),
            ("99999999999999999999", "is too large"),
        ];
        for (text, why) in bad {
            let err = cpu(text).expect_err(text);
            assert!(err.what.contains(why), "{text}: {err}");
            assert!(err.what.contains(&format!("\"{text}\"")), "{text}: {err}");
            assert!(err.allowed.contains("500m"), "{text}: {err}");
        }
    }

    #[test]
    fn memory_quantities() {
        let good = [
            ("4Gi", 4 * GI),
            ("512Mi", 512 * MI),
            ("1G", 1_000_000_000),
            ("1e9", 1_000_000_000),
            ("1E9", 1_000_000_000),
            ("128974848", 128_974_848),
            ("129e6", 129_000_000),
            ("123Mi", 123 * MI),
            ("1Ki", 1024),
            ("1Ti", 1 << 40),
            ("1Pi", 1 << 50),
            ("1Ei", 1 << 60),
            ("1k", 1_000),
            ("2M", 2_000_000),
            ("1T", 1_000_000_000_000),
            ("1P", 1_000_000_000_000_000),
            ("1E", 1_000_000_000_000_000_000),
            ("0.5Gi", GI / 2),
            ("1.5Ki", 1_536),
            ("500m", 1),        // half a byte rounds up, as Kubernetes' Value() does
            ("1.0001k", 1_001), // 1000.1 bytes rounds up
            ("0", 0),
        ];
        for (text, bytes) in good {
            assert_eq!(memory(text), Ok(Bytes(bytes)), "{text}");
        }
        let bad = [
            ("4GB", "is not a memory quantity"),
            ("4gi", "is not a memory quantity"),
            ("big", "is not a memory quantity"),
            ("-1Gi", "is negative"),
            ("16Ei", "is too large"), // 2^64 bytes overflows u64
            ("1e40", "is too large"),
        ];
        for (text, why) in bad {
            let err = memory(text).expect_err(text);
            assert!(err.what.contains(why), "{text}: {err}");
            assert!(err.what.contains(&format!("\"{text}\"")), "{text}: {err}");
            assert!(err.allowed.contains("Gi"), "{text}: {err}");
        }
    }

    #[test]
    fn counts() {
        let good = [
            ("10M", 1e7),
            ("1e7", 1e7),
            ("10000000", 1e7),
            ("0.5", 0.5),
            ("250", 250.0),
            ("1.5k", 1_500.0),
            ("1Ki", 1_024.0),
            ("0", 0.0),
        ];
        for (text, value) in good {
            assert_eq!(count(text), Ok(value), "{text}");
        }
        let bad = [
            ("ten", "is not a number"),
            ("-5", "is negative"),
            ("NaN", "is not a number"),
            ("inf", "is not a number"),
            ("1e999", "is too large"),
        ];
        for (text, why) in bad {
            let err = count(text).expect_err(text);
            assert!(err.what.contains(why), "{text}: {err}");
            assert!(err.allowed.contains("10M"), "{text}: {err}");
        }
    }

    #[test]
    fn go_durations() {
        let good = [
            ("0", 0),
            ("0s", 0),
            ("-0s", 0),
            ("300ms", 300_000),
            ("1.5h", 5_400_000_000),
            ("2h45m", 9_900_000_000),
            ("15s", 15_000_000),
            ("10us", 10),
            ("10µs", 10),
            ("10μs", 10), // Greek mu, which Go also accepts
            ("1000ns", 1),
            ("1.5s", 1_500_000),
            (".5s", 500_000),
            ("1h1m1s1ms1us", 3_661_001_001),
            ("24h", 86_400_000_000),
            ("+5m", 300_000_000),
            ("8760000h", 31_536_000_000_000_000), // the longest allowed: 1000 years
        ];
        for (text, micros) in good {
            assert_eq!(parse_duration(text), Ok(SimDuration(micros)), "{text}");
        }
        let bad = [
            ("15", "needs a unit"),
            ("1.5", "needs a unit"),
            ("-3", "needs a unit"),
            ("", "is not a duration"),
            ("5 s", "has unknown unit \" s\""),
            ("5d", "has unknown unit \"d\""),
            ("5sec", "has unknown unit \"sec\""),
            ("h", "is not a duration"),
            ("1h30", "has a number without a unit"),
            ("-5s", "is negative"),
            ("1ns", "is finer than 1us"),
            ("1.0000001s", "is finer than 1us"),
            ("99999999999999999999h", "is too long"),
            ("8760001h", "is too long"), // just over 1000 years
            ("1.0E2", "needs a unit"),   // a number in exponent notation is still a number
            ("1.0E2s", "has unknown unit \"E\""),
            ("1..5s", "is not a duration"),
        ];
        for (text, why) in bad {
            let err = parse_duration(text).expect_err(text);
            assert!(err.contains(why), "{text}: {err}");
            assert!(err.contains(&format!("\"{text}\"")), "{text}: {err}");
            assert!(err.contains("\"2h45m\""), "{text}: {err}");
        }
    }
}
