//! The one list of CPython regression tests that pass natively and not
//! under wax, each with its reason. An entry is a test id
//! ("test.test_os.MemfdCreateTests.test_memfd_create") or, ending in ".",
//! every test under a module or class prefix. Nothing is skipped: listed
//! tests still run, and the summary names entries that now pass.

pub const KNOWN: &[(&str, &str)] = &[];

/// The reason a test is listed, if it is.
pub fn reason(test: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(id, _)| *id == test || (id.ends_with('.') && test.starts_with(id)))
        .map(|(_, why)| *why)
}
