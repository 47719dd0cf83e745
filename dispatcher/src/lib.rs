//! The dispatcher will turn the indexed corpus into work items for
//! downstream agents. It is a planned issue; the crate exists so the
//! workspace has its final shape and `tributary dispatch` fails loudly
//! instead of pretending to work.
