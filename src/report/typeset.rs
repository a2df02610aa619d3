//! Sub- and superscripts in chart text: the TeX-like notation of the pages' titles and legends
//! ("W^PP_{k,k−1}", "r^I_k", "(W^PP_{k+1,k})^T") drawn as Unicode scripts ("Wᴾᴾₖ,ₖ₋₁", "rᴵₖ",
//! "(Wᴾᴾₖ₊₁,ₖ)ᵀ"). Every character produced has a glyph in the embedded DejaVu Sans (2.37,
//! pinned; checked against its cmap with fontTools). A group with a character that has no
//! script form ("‖·‖_F") is left as written, and so are names with underscores
//! ("frozen_hidden").

/// Characters with a superscript form, and those forms, in order.
const SUP: (&str, &str) = (
    "ABDEGHIJKLMNOPRTUVW0123456789+−-abcdefghijklmnoprstuvwxyz",
    "ᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ",
);

/// The same for subscripts (a comma stays a comma).
const SUB: (&str, &str) = (
    "0123456789+−-=()aehijklmnoprstuvx,",
    "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ,",
);

/// The script form of `c` in `table` ([`SUP`] or [`SUB`]), if Unicode has one that DejaVu
/// Sans draws.
fn script(table: (&str, &str), c: char) -> Option<char> {
    let (from, to) = table;
    from.chars()
        .position(|f| f == c)
        .and_then(|i| to.chars().nth(i))
}

/// `text` with its script groups typeset: `^{…}` and `_{…}`; `^` followed by letters and
/// digits; `_` followed by a lone letter or digit where it ends a one-letter symbol ("r_k",
/// "c_k", not "g_som" or "n_pre") or follows another group ("W^IP_k"). Anything else is left
/// as it is.
pub fn scripts(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    // Whether the last thing written was a script group.
    let mut after_group = false;
    let mut i = 0;
    while i < c.len() {
        let mark = c[i];
        if (mark == '^' || mark == '_') && i > 0 && i + 1 < c.len() {
            let (group, next): (Vec<char>, usize) = if c[i + 1] == '{' {
                match c[i + 2..].iter().position(|&x| x == '}') {
                    Some(len) => (c[i + 2..i + 2 + len].to_vec(), i + 3 + len),
                    None => (Vec::new(), i),
                }
            } else if mark == '^' {
                let len = c[i + 1..]
                    .iter()
                    .take_while(|x| x.is_ascii_alphanumeric())
                    .count();
                (c[i + 1..i + 1 + len].to_vec(), i + 1 + len)
            } else {
                // One character, ending a one-letter symbol or after a group.
                let symbol = c[i - 1].is_alphabetic() && (i < 2 || !c[i - 2].is_alphabetic());
                let alone = c.get(i + 2).is_none_or(|x| !x.is_alphanumeric());
                if (symbol || after_group) && alone && c[i + 1].is_ascii_alphanumeric() {
                    (vec![c[i + 1]], i + 2)
                } else {
                    (Vec::new(), i)
                }
            };
            let table = if mark == '^' { SUP } else { SUB };
            let typeset: Option<String> = if group.is_empty() {
                None
            } else {
                group.iter().map(|&x| script(table, x)).collect()
            };
            if let Some(t) = typeset {
                out.push_str(&t);
                after_group = true;
                i = next;
                continue;
            }
        }
        out.push(mark);
        after_group = false;
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::scripts;

    #[test]
    fn the_pages_notation_becomes_unicode_scripts() {
        let cases = [
            (
                "Rule-7 update of W^PP_{k,k−1} vs backprop's",
                "Rule-7 update of Wᴾᴾₖ,ₖ₋₁ vs backprop's",
            ),
            ("cos(W^down, W^PP^T)", "cos(Wᵈᵒʷⁿ, Wᴾᴾᵀ)"),
            ("(W^PP_{k+1,k})^T", "(Wᴾᴾₖ₊₁,ₖ)ᵀ"),
            ("r^I_k and W^IP_k", "rᴵₖ and Wᴵᴾₖ"),
            ("c_k W^PP_{k+1,k}, δ_{k+1}", "cₖ Wᴾᴾₖ₊₁,ₖ, δₖ₊₁"),
            ("⟨‖r_{k−1}‖²⟩", "⟨‖rₖ₋₁‖²⟩"),
            ("e^{−x}", "e⁻ˣ"),
        ];
        for (tex, want) in cases {
            assert_eq!(scripts(tex), want, "{tex}");
        }
        // Left as written: names with underscores, groups without script forms, stray marks.
        for plain in [
            "frozen_hidden, layer 1",
            "two_pass vs dynamics",
            "‖W‖_F",
            "v̂_B",
            "x^",
            "a_{b",
            "_k",
            "10^-3",
            "g_som 0.8, n_pre",
        ] {
            assert_eq!(scripts(plain), plain);
        }
    }
}
