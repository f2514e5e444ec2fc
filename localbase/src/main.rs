fn main() {
    eprintln!("localbase: not assembled yet");
    std::process::exit(2);
}
