//! Reading what a server wrote to its AOF: the propagated forms of commands.

use crate::server::Server;

/// The text of the server's incremental AOF files (`appendonlydir/*.incr.*`), oldest first.
pub fn aof_text(server: &Server) -> String {
    let dir = server.dir().join("appendonlydir");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.to_string_lossy().contains(".incr."));
    files.sort();
    files
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned())
        .collect()
}

/// The commands of a RESP stream, each as its words joined by spaces.
pub fn parse_resp_commands(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = s.split("\r\n");
    while let Some(l) = lines.next() {
        let Some(n) = l.strip_prefix('*') else {
            continue;
        };
        let Ok(n) = n.parse::<usize>() else {
            continue;
        };
        let mut words = Vec::new();
        for _ in 0..n {
            let _len = lines.next();
            words.push(lines.next().unwrap_or("").to_string());
        }
        out.push(words.join(" "));
    }
    out
}
