//! Extended resources (`nvidia.com/gpu`, ...): names checked as Kubernetes checks them, interned
//! in the order the file first names them into the scenario's table (at most
//! `MAX_EXTENDED_RESOURCES`), and amounts read as whole numbers.

use crate::cluster::spec::ExtendedNames;
use crate::scenario::admission::NVIDIA_GPU;
use crate::scenario::error::Error;
use crate::scenario::schema::Scalar;
use crate::text::suggest::closest;
use crate::units::{ExtendedResources, MAX_EXTENDED_RESOURCES};

use super::Cx;

/// What a resource name may be, for messages.
const ALLOWED_NAMES: &str = "expected cpu, memory, or an extended resource named with a domain \
     prefix outside kubernetes.io, such as nvidia.com/gpu";

impl Cx<'_> {
    /// The index of the extended resource `name` in the scenario's table, adding it when new.
    pub(super) fn extended_index(&self, path: &str, name: &str) -> Result<usize, Error> {
        self.extended_name_is_valid(path, name)?;
        let mut names = self.extended.borrow_mut();
        if let Some(i) = names.iter().position(|n| n == name) {
            return Ok(i);
        }
        if names.len() >= MAX_EXTENDED_RESOURCES {
            return Err(self.invalid(
                path,
                format!(
                    "\"{name}\" would be extended resource number {}, after {}",
                    names.len() + 1,
                    names.join(", ")
                ),
                format!("expected at most {MAX_EXTENDED_RESOURCES} distinct extended resources in one scenario"),
            ));
        }
        names.push(name.to_string());
        Ok(names.len() - 1)
    }

    /// Whether `name` is an extended resource name as Kubernetes accepts one: `<domain>/<name>`,
    /// the domain outside `kubernetes.io` (whose names are Kubernetes' own).
    fn extended_name_is_valid(&self, path: &str, name: &str) -> Result<(), Error> {
        let Some((domain, resource)) = name.split_once('/') else {
            // A bare `gpu` is one letter from `cpu`, but surely meant NVIDIA's resource.
            let suggestion = if name.to_ascii_lowercase().starts_with("gpu") {
                Some(NVIDIA_GPU.to_string())
            } else {
                closest(name, ["cpu", "memory"])
            };
            let hint = suggestion
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            return Err(self.invalid(
                path,
                format!("\"{name}\" is not a resource capsim knows{hint}"),
                ALLOWED_NAMES,
            ));
        };
        let is_part = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        };
        if !is_part(domain)
            || !is_part(resource)
            || resource.contains('/')
            || domain == "kubernetes.io"
            || domain.ends_with(".kubernetes.io")
        {
            return Err(self.invalid(
                path,
                format!("\"{name}\" is not a valid extended resource name"),
                ALLOWED_NAMES,
            ));
        }
        Ok(())
    }

    /// Reads the extended resources of a requests, limits or allocatable map at `path`: each a
    /// whole number of units, as Kubernetes requires of extended resources.
    pub(super) fn extended_amounts(
        &self,
        path: &str,
        amounts: &[(String, Scalar)],
    ) -> Result<ExtendedResources, Error> {
        let mut out = ExtendedResources::ZERO;
        for (name, amount) in amounts {
            let field = format!("{path}.{name}");
            let i = self.extended_index(&field, name)?;
            let max = u32::from(u16::MAX);
            let units = self.whole_u32(&field, amount, "whole number of units", 0, max)?;
            out.0[i] = u16::try_from(units).unwrap_or(u16::MAX);
        }
        Ok(out)
    }

    /// The scenario's table of extended resource names, in the order they were first named.
    pub(super) fn extended_names(&self) -> ExtendedNames {
        self.extended.borrow().iter().cloned().collect()
    }
}
