//! Family links between registered people, kept consistent in both
//! directions: recording that B is A's parent also records that A is B's
//! child, and removing one removes the other.

use std::collections::HashSet;

use crate::error::{FieldError, Reason};
use crate::person::{code_enum, PersonId};

code_enum!(
    /// How a relative is related to a person: "the relative is the person's …".
    LinkKind {
        /// The relative is the person's parent.
        Parent = "parent",
        /// The relative is the person's child.
        Child = "child",
        /// The relative is the person's spouse.
        Spouse = "spouse",
        /// The relative is the person's sibling.
        Sibling = "sibling",
        /// Any other family relation.
        Other = "other",
    }
);

impl LinkKind {
    /// The same relation seen from the relative: parent ↔ child; spouse,
    /// sibling and other are symmetric.
    pub fn inverse(self) -> LinkKind {
        match self {
            LinkKind::Parent => LinkKind::Child,
            LinkKind::Child => LinkKind::Parent,
            k => k,
        }
    }
}

/// A directed family link: `relative` is `person`'s `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FamilyLink {
    /// The person.
    pub person: PersonId,
    /// Their relative.
    pub relative: PersonId,
    /// What the relative is to the person.
    pub kind: LinkKind,
}

impl FamilyLink {
    /// The same link seen from the relative.
    pub fn inverse(self) -> FamilyLink {
        FamilyLink {
            person: self.relative,
            relative: self.person,
            kind: self.kind.inverse(),
        }
    }

    /// The parent and the child of a parent/child link, else `None`.
    pub fn parent_child(self) -> Option<(PersonId, PersonId)> {
        match self.kind {
            LinkKind::Parent => Some((self.relative, self.person)),
            LinkKind::Child => Some((self.person, self.relative)),
            _ => None,
        }
    }
}

/// Checks a new link against the existing family graph.
///
/// `parents_of` returns the recorded parents of a person. The link is refused
/// when it relates a person to themself, duplicates an existing link, or
/// makes someone their own ancestor (the child would become an ancestor of
/// its own parent).
pub fn check_new_link(
    link: FamilyLink,
    existing: &[FamilyLink],
    parents_of: &mut dyn FnMut(PersonId) -> Vec<PersonId>,
) -> Result<(), FieldError> {
    if link.person == link.relative {
        return Err(FieldError::new("relative_id", Reason::SelfRelation));
    }
    let inverse = link.inverse();
    if existing.iter().any(|l| {
        (l.person == link.person && l.relative == link.relative)
            || (l.person == inverse.person && l.relative == inverse.relative)
    }) {
        return Err(FieldError::new("relative_id", Reason::Duplicate));
    }
    if let Some((parent, child)) = link.parent_child() {
        // A cycle appears iff the child is already an ancestor of the parent.
        let mut seen = HashSet::new();
        let mut stack = vec![parent];
        while let Some(p) = stack.pop() {
            if p == child {
                return Err(FieldError::new("relative_id", Reason::AncestorCycle));
            }
            if seen.insert(p) {
                stack.extend(parents_of(p));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ids(n: usize) -> Vec<PersonId> {
        (0..n).map(|_| PersonId::new()).collect()
    }

    fn check(link: FamilyLink, links: &[FamilyLink]) -> Result<(), Reason> {
        let mut parents: HashMap<PersonId, Vec<PersonId>> = HashMap::new();
        for l in links {
            if let Some((p, c)) = l.parent_child() {
                parents.entry(c).or_default().push(p);
            }
        }
        check_new_link(link, links, &mut |p| parents.get(&p).cloned().unwrap_or_default()).map_err(|e| e.reason)
    }

    #[test]
    fn inverse_is_an_involution() {
        for k in LinkKind::ALL {
            assert_eq!(k.inverse().inverse(), *k);
        }
        assert_eq!(LinkKind::Parent.inverse(), LinkKind::Child);
        assert_eq!(LinkKind::Spouse.inverse(), LinkKind::Spouse);
    }

    #[test]
    fn refuses_self_links_and_duplicates() {
        let p = ids(2);
        let me = FamilyLink {
            person: p[0],
            relative: p[0],
            kind: LinkKind::Sibling,
        };
        assert_eq!(check(me, &[]), Err(Reason::SelfRelation));
        let l = FamilyLink {
            person: p[0],
            relative: p[1],
            kind: LinkKind::Parent,
        };
        assert_eq!(check(l, &[l]), Err(Reason::Duplicate));
        // The same pair seen from the other side is a duplicate too.
        assert_eq!(check(l.inverse(), &[l]), Err(Reason::Duplicate));
    }

    #[test]
    fn refuses_ancestor_cycles_at_any_depth() {
        let p = ids(4);
        // p1 is p0's parent, p2 is p1's parent, p3 is p2's parent.
        let chain: Vec<_> = (0..3)
            .map(|i| FamilyLink {
                person: p[i],
                relative: p[i + 1],
                kind: LinkKind::Parent,
            })
            .collect();
        // p0 as p3's parent: p3 would be its own ancestor.
        let bad = FamilyLink {
            person: p[3],
            relative: p[0],
            kind: LinkKind::Parent,
        };
        assert_eq!(check(bad, &chain), Err(Reason::AncestorCycle));
        // Said the other way round (p3 is p0's child) too.
        let bad2 = FamilyLink {
            person: p[0],
            relative: p[3],
            kind: LinkKind::Child,
        };
        assert_eq!(check(bad2, &chain), Err(Reason::AncestorCycle));
        // A sibling link between them is not a cycle.
        let ok = FamilyLink {
            person: p[0],
            relative: p[3],
            kind: LinkKind::Other,
        };
        assert_eq!(check(ok, &chain), Ok(()));
    }
}
