//! Rebuild when the built-in demo site or static assets change.
fn main() {
    println!("cargo:rerun-if-changed=demo");
    println!("cargo:rerun-if-changed=static");
    println!("cargo:rerun-if-changed=migrations");
}
