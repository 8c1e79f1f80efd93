//! enforce (to be built).
