//! `lantern-verify FILE [--key KEY]`: the stand-alone verifier. It has no
//! other dependency than the ledger crate, so a recipient can build or
//! receive it alone and check a dossier without installing Lantern.

const USAGE: &str = "usage: lantern-verify FILE [--key KEY]

FILE  a dossier bundle (.zip), the folder it was unpacked into, or a proof file
KEY   the log's verifier key (name+keyid+base64) or a file holding it;
      required for a proof file, optional (but advised) for a dossier";

fn main() {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut key = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--key" => key = args.next(),
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            _ if path.is_none() && !a.starts_with("--") => path = Some(a),
            _ => {
                eprintln!("{USAGE}");
                std::process::exit(2);
            }
        }
    }
    let Some(path) = path else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    std::process::exit(lantern_verify::main_with(std::path::Path::new(&path), key.as_deref()));
}
