//! A YAML document as a small tree whose every node knows its line and column.
//!
//! The policy is mapped from this tree by hand (not through serde) so that one pass can
//! report every problem in a file, each at the place it was written.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle};

/// A 1-based line and column in the policy text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone)]
pub enum Value {
    /// A scalar and whether it was written plain (unquoted): only plain scalars can be
    /// booleans, numbers or null.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

impl Node {
    /// The node as JSON, per the YAML 1.2 core schema.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Scalar { text, plain: false } => J::String(text.clone()),
            Value::Scalar { text, plain: true } => {
                if is_null(text) {
                    J::Null
                } else if text == "true" || text == "false" {
                    J::Bool(text == "true")
                } else if let Ok(i) = text.parse::<i64>() {
                    J::from(i)
                } else if let Some(f) = text.parse::<f64>().ok().filter(|f| f.is_finite()) {
                    J::from(f)
                } else {
                    J::String(text.clone())
                }
            }
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let key = match &k.value {
                            Value::Scalar { text, .. } => text.clone(),
                            _ => k.to_json().to_string(),
                        };
                        (key, v.to_json())
                    })
                    .collect(),
            ),
        }
    }

    /// A short word for the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar { text, plain: true } if is_null(text) => "null",
            Value::Scalar { text, plain: true } if text == "true" || text == "false" => "a boolean",
            Value::Scalar { text, plain: true } if text.parse::<f64>().is_ok() => "a number",
            Value::Scalar { .. } => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

pub fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Nesting deeper than this is refused: a policy is four levels deep, and a bounded depth
/// keeps hostile input from exhausting the stack when the tree is walked or dropped.
const MAX_DEPTH: usize = 64;
/// Nodes in total, after aliases are expanded (a "billion laughs" document stops here).
const MAX_NODES: usize = 100_000;

/// Why the text is not a YAML document we can read, with where.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

fn pos(m: &granit_parser::Marker) -> Pos {
    Pos { line: m.line(), column: m.col() + 1 }
}

enum Frame {
    Seq(Vec<Node>, Pos, usize),
    Map(Vec<(Node, Node)>, Option<Node>, Pos, usize),
}

/// Parses the first document of `text`. An empty text is an empty mapping's absence: `None`.
pub fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut nodes = 0usize;
    let mut root: Option<Node> = None;
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| SyntaxError { pos: pos(e.marker()), message: e.info() })?;
        let at = pos(&span.start);
        let finished = match event {
            Event::DocumentEnd if root.is_some() => break,
            Event::Scalar(value, style, anchor, tag) => {
                nodes += 1;
                let quoted = !matches!(style, ScalarStyle::Plain)
                    || tag.as_ref().is_some_and(|t| t.core_suffix() == Some("str"));
                let node = Node { value: Value::Scalar { text: value.into_owned(), plain: !quoted }, pos: at };
                complete(node, anchor, &mut stack, &mut anchors)
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError { pos: at, message: format!("nested deeper than {MAX_DEPTH} levels") });
                }
                nodes += 1;
                if matches!(event, Event::SequenceStart(..)) {
                    stack.push(Frame::Seq(Vec::new(), at, anchor));
                } else {
                    stack.push(Frame::Map(Vec::new(), None, at, anchor));
                }
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match stack.pop() {
                    Some(Frame::Seq(items, p, a)) => (Node { value: Value::Seq(items), pos: p }, a),
                    Some(Frame::Map(entries, _, p, a)) => (Node { value: Value::Map(entries), pos: p }, a),
                    None => return Err(SyntaxError { pos: at, message: "unbalanced collection end".into() }),
                };
                complete(node, anchor, &mut stack, &mut anchors)
            }
            Event::Alias(id) => {
                let Some(target) = anchors.get(&id).cloned() else {
                    return Err(SyntaxError { pos: at, message: "alias to an unknown anchor".into() });
                };
                nodes += count(&target);
                if nodes > MAX_NODES {
                    return Err(SyntaxError {
                        pos: at,
                        message: format!("more than {MAX_NODES} values once aliases are expanded"),
                    });
                }
                complete(Node { pos: at, ..target }, 0, &mut stack, &mut anchors)
            }
            _ => None,
        };
        if nodes > MAX_NODES {
            return Err(SyntaxError { pos: at, message: format!("more than {MAX_NODES} values") });
        }
        if finished.is_some() {
            root = finished;
        }
    }
    Ok(root)
}

fn complete(node: Node, anchor: usize, stack: &mut [Frame], anchors: &mut HashMap<usize, Node>) -> Option<Node> {
    if anchor != 0 {
        anchors.insert(anchor, node.clone());
    }
    match stack.last_mut() {
        None => Some(node),
        Some(Frame::Seq(items, ..)) => {
            items.push(node);
            None
        }
        Some(Frame::Map(entries, key, ..)) => {
            match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            }
            None
        }
    }
}

fn count(node: &Node) -> usize {
    // Iterative, so that counting cannot recurse deeper than the tree builder allowed.
    let mut n = 0;
    let mut todo = vec![node];
    while let Some(node) = todo.pop() {
        n += 1;
        match &node.value {
            Value::Scalar { .. } => {}
            Value::Seq(items) => todo.extend(items),
            Value::Map(entries) => todo.extend(entries.iter().flat_map(|(k, v)| [k, v])),
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let root = parse("a: 1\nb:\n  - 'x'\n").unwrap().unwrap();
        let Value::Map(entries) = &root.value else { panic!("not a map") };
        assert_eq!(entries[1].0.pos, Pos { line: 2, column: 1 });
        let Value::Seq(items) = &entries[1].1.value else { panic!("not a seq") };
        assert_eq!(items[0].pos, Pos { line: 3, column: 5 });
        assert!(matches!(&items[0].value, Value::Scalar { text, plain: false } if text == "x"));
    }

    #[test]
    fn alias_bombs_stop() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("aliases"), "{}", err.message);
    }

    #[test]
    fn deep_nesting_stops() {
        // The parser has its own recursion limit; ours is lower and applies first.
        assert!(parse(&"[".repeat(10_000)).is_err());
        let err = parse(&format!("{}{}", "[".repeat(65), "]".repeat(65))).unwrap_err();
        assert!(err.message.contains("nested deeper than 64"), "{}", err.message);
        assert!(parse(&format!("{}{}", "[".repeat(64), "]".repeat(64))).is_ok());
    }
}
