//! Pictures for the web pages, drawn on the server as inline SVG: no script, no style
//! attributes (the pages' Content-Security-Policy allows neither), only SVG's own
//! presentation attributes, and every bar carries a `<title>` with its exact figure for
//! people who point at it or use a screen reader.

use maud::{html, Markup};

/// Bars of one series, one per label, with their figure above each.
pub(crate) fn bars(caption: &str, bars: &[(String, usize)]) -> Markup {
    const HEIGHT: f64 = 120.0;
    const BAR: f64 = 28.0;
    const GAP: f64 = 6.0;
    let most = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let width = (bars.len() as f64 * (BAR + GAP)).max(BAR);
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (width) " " (HEIGHT + 40.0) } role="img" aria-label=(caption) {
                @for (i, (label, n)) in bars.iter().enumerate() {
                    @let x = i as f64 * (BAR + GAP);
                    @let h = HEIGHT * *n as f64 / most;
                    g {
                        title { (label) ": " (n) }
                        rect x=(x) y=(HEIGHT - h + 14.0) width=(BAR) height=(h) fill="#0b3d91" {}
                        text x=(x + BAR / 2.0) y=(HEIGHT - h + 10.0) text-anchor="middle" font-size="10" { (n) }
                        text x=(x + BAR / 2.0) y=(HEIGHT + 28.0) text-anchor="middle" font-size="9" { (label) }
                    }
                }
            }
            figcaption { (caption) }
        }
    }
}

/// Several series side by side per label (one colour each, with a legend): e.g. the
/// findings each clause gained in each week.
pub(crate) fn grouped(caption: &str, series: &[&str], groups: &[(String, Vec<usize>)]) -> Markup {
    const HEIGHT: f64 = 120.0;
    const BAR: f64 = 7.0;
    const GAP: f64 = 10.0;
    const COLOURS: [&str; 6] = ["#0b3d91", "#b35900", "#1a7f37", "#8250df", "#cf222e", "#57606a"];
    let most = groups.iter().flat_map(|(_, v)| v.iter().copied()).max().unwrap_or(0).max(1) as f64;
    let group = series.len() as f64 * BAR + GAP;
    let width = (groups.len() as f64 * group).max(group);
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (width) " " (HEIGHT + 40.0) } role="img" aria-label=(caption) {
                @for (i, (label, values)) in groups.iter().enumerate() {
                    @let x0 = i as f64 * group;
                    @for (j, n) in values.iter().enumerate() {
                        @let h = HEIGHT * *n as f64 / most;
                        g {
                            title { (label) ", " (series.get(j).copied().unwrap_or("")) ": " (n) }
                            rect x=(x0 + j as f64 * BAR) y=(HEIGHT - h + 14.0) width=(BAR - 1.0) height=(h) fill=(COLOURS[j % COLOURS.len()]) {}
                        }
                    }
                    text x=(x0 + (group - GAP) / 2.0) y=(HEIGHT + 28.0) text-anchor="middle" font-size="9" { (label) }
                }
            }
            figcaption {
                (caption) ": "
                @for (j, name) in series.iter().enumerate() {
                    svg.key viewBox="0 0 10 10" width="10" height="10" aria-hidden="true" {
                        rect width="10" height="10" fill=(COLOURS[j % COLOURS.len()]) {}
                    }
                    " " (name) " "
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bar_says_its_figure_and_the_tallest_fills_the_chart() {
        let svg =
            bars("Visits per shift", &[("06:00".into(), 0), ("14:00".into(), 3)]).into_string();
        assert!(svg.contains("<title>06:00: 0</title>") && svg.contains("<title>14:00: 3</title>"));
        assert!(svg.contains(r#"height="120""#), "the tallest bar is full height: {svg}");
        assert!(!svg.contains("style="), "no style attributes under the CSP");
    }

    #[test]
    fn grouped_bars_have_a_legend_per_series() {
        let svg = grouped("Findings", &["4.1", "4.5"], &[("W1".into(), vec![2, 0])]).into_string();
        assert!(
            svg.contains("<title>W1, 4.1: 2</title>") && svg.contains("<title>W1, 4.5: 0</title>")
        );
        assert!(svg.contains(" 4.1 ") && svg.contains(" 4.5 "), "{svg}");
    }
}
