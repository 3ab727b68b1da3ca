//! Lantern's domain: the pure types and rules that every other crate builds on.
//!
//! Nothing here performs I/O or reads the clock; time comes in through
//! [`clock::Clock`] so tests decide what "now" is. Input from the outside is
//! parsed into the newtypes of this crate at the edge (web forms, JSON, CSV),
//! so the rest of the program never sees an unchecked value
//! ("parse, don't validate").

pub mod audit;
pub mod case;
pub mod clock;
pub mod corroboration;
pub mod date;
pub mod error;
pub mod evidence;
pub mod family;
pub mod interview;
pub mod names;
pub mod person;
pub mod policy;
pub mod testimony;
pub mod text;
pub mod tracing;
pub mod user;

pub use error::{FieldError, FieldErrors, Reason};
