//! What the matching engine is given: registered people and tracing
//! requests turned into its records and queries (names, sex, birth date,
//! birth place, nationality, parents' names; never a protected field).

use lantern_domain::person::{PersonCore, Sex};
use lantern_matching::fields::Details;
use lantern_matching::Record;
use lantern_store::SoughtPerson;

/// Names and other fields to search the engine with.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Names, primary first.
    pub names: Vec<String>,
    /// The other fields.
    pub details: Details,
}

impl Query {
    /// A query by names only (the people search box).
    pub fn names(names: Vec<String>) -> Query {
        Query {
            names,
            details: Details::default(),
        }
    }

    /// A registered (or about to be registered) person.
    pub fn person(core: &PersonCore) -> Query {
        let primary = core.primary_name();
        let mut names = vec![primary.text.as_str().to_string()];
        names.extend(
            core.names
                .iter()
                .filter(|n| *n != primary)
                .map(|n| n.text.as_str().to_string()),
        );
        let sex = match core.sex {
            Sex::Female | Sex::Male => Some(core.sex.code().to_string()),
            Sex::Other | Sex::Unknown => None,
        };
        Query {
            names,
            details: Details {
                sex,
                birth_date: core.birth_date.map(|d| d.to_string()),
                birth_place: core.birth_place.clone(),
                nationality: core.nationality.clone(),
                father_name: core.father_name.clone(),
                mother_name: core.mother_name.clone(),
            },
        }
    }

    /// What a tracing request gives of the person sought.
    pub fn sought(s: &SoughtPerson) -> Query {
        Query {
            names: s.names.clone(),
            details: Details {
                birth_date: s.birth_date.clone(),
                birth_place: s.birth_place.clone(),
                father_name: s.father_name.clone(),
                ..Details::default()
            },
        }
    }

    /// The names as the engine takes them.
    pub fn name_refs(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).collect()
    }

    /// The engine's record for this query under an id.
    pub fn record(&self, id: impl Into<String>) -> Record {
        Record::with_details(id, &self.name_refs(), &self.details)
    }
}
