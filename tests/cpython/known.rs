//! The one list of CPython regression tests that pass natively and not
//! under wax, each with its reason. An entry is a test id
//! ("test.test_os.MemfdCreateTests.test_memfd_create") or, ending in ".",
//! every test under a module or class prefix. Nothing is skipped: listed
//! tests still run, and the summary names entries that now pass.

pub const KNOWN: &[(&str, &str)] = &[
    // Privileges the guest cannot have.
    (
        "test.test_time.TimeTestCase.test_monotonic_settime",
        "moves CLOCK_REALTIME back an hour: the guest has no CAP_SYS_TIME (the wall clock \
         is the host's), so it gets EPERM and the test skips itself",
    ),
    (
        "test.test_posix.PosixTester.test_get_and_set_scheduler_and_param",
        "asks for the scheduler of getppid(): python is the machine's first process, its \
         parent is outside the machine (ESRCH; natively chroot's parent exists)",
    ),
];

/// The reason a test is listed, if it is.
pub fn reason(test: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(id, _)| covers(id, test))
        .map(|(_, why)| *why)
}

/// Whether entry `id` names `test`: exactly, or as a prefix ending in ".".
pub fn covers(id: &str, test: &str) -> bool {
    id == test || (id.ends_with('.') && test.starts_with(id))
}
