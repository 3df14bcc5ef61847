//! Writes the seed corpus to `fuzz/seeds/<target>/<name>` (see
//! `wsproto_fuzz::seeds`).

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    for (target, name, bytes) in wsproto_fuzz::seeds::all() {
        std::fs::create_dir_all(dir.join(target))?;
        std::fs::write(dir.join(target).join(name), bytes)?;
    }
    println!(
        "wrote {} seeds to {}",
        wsproto_fuzz::seeds::all().len(),
        dir.display()
    );
    Ok(())
}
