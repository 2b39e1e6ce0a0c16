//! The few `Deserialize` implementations written by hand: scalars kept as text, name-keyed maps
//! that reject duplicates, and fields that take one of two shapes (a name or a map, a map or a
//! list). Each keeps serde_yaml's path and line in its errors, which `untagged` enums lose.

use std::fmt;
use std::marker::PhantomData;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{DistFile, DistOrScalar, ExpanderFile, InlineMachineFile, MachineTypeFile, OneOrMany};

/// A scalar as written: a string, a number or a boolean, kept as text.
///
/// Numbers are printed back in Rust's shortest form (`-3`, `0.5`, `1e300`). A number YAML
/// reads as a float keeps a decimal point or an exponent (`1.0`, `1000000000.0` for `1e9`), so
/// that a field taking whole numbers refuses it: the text written (`1.0000000000000000001`) is
/// gone once YAML has rounded it to a float, and the float alone cannot say it was whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Scalar(pub(crate) String);

impl Scalar {
    /// The text of the scalar.
    pub(crate) fn text(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

/// Visitor methods that keep each listed kind of scalar as its text, wrapped by `$wrap` into
/// the visitor's value: one rule for every scalar, whichever type serde_yaml read it as.
macro_rules! visit_as_text {
    ($wrap:expr; $($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            Ok(($wrap)(Scalar(v.to_string())))
        }
    )*};
}

impl Visitor<'_> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a string")
    }

    visit_as_text!(
        std::convert::identity;
        visit_str(&str),
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_i128(i128),
        visit_u128(u128),
    );

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar(format!("{v:?}")))
    }
}

/// A map from names to values that keeps file order and rejects a name given twice (a plain
/// map would silently keep the last one).
#[derive(Debug)]
pub(crate) struct NamedMap<T>(pub(crate) IndexMap<String, T>);

impl<T> Default for NamedMap<T> {
    fn default() -> Self {
        NamedMap(IndexMap::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NamedMap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<NamedMap<T>, D::Error> {
        // Any, so that a key written with nothing after it is an empty map however the
        // document was written out.
        deserializer.deserialize_any(NamedMapVisitor(PhantomData))
    }
}

struct NamedMapVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for NamedMapVisitor<T> {
    type Value = NamedMap<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map from names to entries")
    }

    fn visit_unit<E: de::Error>(self) -> Result<NamedMap<T>, E> {
        Ok(NamedMap::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NamedMap<T>, A::Error> {
        let mut entries = IndexMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if entries.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate entry `{key}`")));
            }
            let value = map.next_value::<T>()?;
            entries.insert(key, value);
        }
        Ok(NamedMap(entries))
    }
}

/// Implements `Deserialize` for an enum with one variant for a scalar and one for a map, where
/// the map variant is a struct deserialized with all its own checks.
macro_rules! scalar_or_map {
    ($ty:ident, $scalar:ident($scalar_ty:ty), $map:ident($map_ty:ty), $expecting:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    visit_as_text!(
                        |s: Scalar| $ty::$scalar(s.into());
                        visit_str(&str),
                        visit_i64(i64),
                        visit_u64(u64),
                        visit_f64(f64),
                    );
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<$ty, A::Error> {
                        <$map_ty>::deserialize(de::value::MapAccessDeserializer::new(map))
                            .map($ty::$map)
                    }
                }
                deserializer.deserialize_any(V)
            }
        }
    };
}

impl From<Scalar> for String {
    fn from(s: Scalar) -> String {
        s.0
    }
}

scalar_or_map!(
    MachineTypeFile,
    Named(String),
    Inline(InlineMachineFile),
    "a machine type name or a map {cpu, memory, price_per_hour}"
);

scalar_or_map!(
    DistOrScalar,
    Scalar(Scalar),
    Dist(DistFile),
    "a value or a map {distribution: ...}"
);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OneOrMany<T>, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map or a list of maps")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OneOrMany<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|t| OneOrMany(vec![t]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<OneOrMany<T>, A::Error> {
                Vec::<T>::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(OneOrMany)
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

impl<'de> Deserialize<'de> for ExpanderFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ExpanderFile, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ExpanderFile;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an expander name, a comma-separated chain, or a list of names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ExpanderFile, E> {
                Ok(ExpanderFile(
                    v.split(',').map(|s| s.trim().to_string()).collect(),
                ))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ExpanderFile, A::Error> {
                Vec::<String>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(ExpanderFile)
            }
        }
        deserializer.deserialize_any(V)
    }
}
