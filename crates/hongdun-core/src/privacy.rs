//! Masking of personal data (PIPL; DOMAIN.md §10) for every output that is not
//! the handler's own working view.

/// `330102199001011234` → `330***********1234`.
pub fn mask_id_number(s: &str) -> String {
    mask_keep(s, 3, 4)
}

/// `13812345678` → `138****5678`.
pub fn mask_phone(s: &str) -> String {
    mask_keep(s, 3, 4)
}

/// `张三丰` → `张**`: the family name stays, the given name does not.
pub fn mask_name(s: &str) -> String {
    mask_keep(s, 1, 0)
}

fn mask_keep(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.trim().chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    if n <= head + tail {
        // Too short to keep anything and still hide something.
        return "*".repeat(n);
    }
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_id_number("330102199001011234"), "330***********1234");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("李"), "*");
        assert_eq!(mask_phone("123"), "***");
        assert_eq!(mask_phone(""), "");
    }
}
