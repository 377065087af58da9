//! Tokens to an expression: recursive descent with NOT binding tighter than
//! AND (explicit or by juxtaposition), and AND tighter than OR.

use super::error::{Fault, QueryErrorKind};
use super::lexer::{Token, TokenKind, tokenize};
use super::term::{Expr, Meaning, alias_term, alias_without_value, pattern_term, word_meaning};

pub(super) fn parse(input: &str) -> Result<Expr, Fault> {
    let tokens = tokenize(input)?;
    if tokens.is_empty() {
        return Err(Fault::new(QueryErrorKind::Empty, 1));
    }
    let mut parser = Parser {
        tokens,
        next: 0,
        end_column: input.chars().count() + 1,
    };
    let expr = parser.or()?;
    // `or` stops only at the end or at a `)`: here, one that closes nothing.
    match parser.peek() {
        Some(stray) => Err(Fault::new(QueryErrorKind::StrayParen, stray.column)),
        None => Ok(expr),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Or,
    And,
    Not,
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    end_column: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn advance(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    /// The next token if it is `wanted`.
    fn take_keyword(&mut self, wanted: Keyword) -> Option<Token> {
        if self.peek().and_then(keyword) == Some(wanted) {
            self.advance()
        } else {
            None
        }
    }

    fn or(&mut self) -> Result<Expr, Fault> {
        let mut items = vec![self.and()?];
        while let Some(operator) = self.take_keyword(Keyword::Or) {
            self.expect_operand(&operator)?;
            items.push(self.and()?);
        }
        Ok(Expr::any(items))
    }

    fn and(&mut self) -> Result<Expr, Fault> {
        let mut items = vec![self.unary()?];
        while let Some(token) = self.peek() {
            if token.kind == TokenKind::Close || keyword(token) == Some(Keyword::Or) {
                break;
            }
            if let Some(operator) = self.take_keyword(Keyword::And) {
                self.expect_operand(&operator)?;
            }
            items.push(self.unary()?);
        }
        Ok(Expr::all(items))
    }

    fn unary(&mut self) -> Result<Expr, Fault> {
        let Some(token) = self.advance() else {
            return Err(Fault::new(QueryErrorKind::Empty, self.end_column));
        };
        match &token.kind {
            TokenKind::Negate(_) => {
                self.expect_operand(&token)?;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            TokenKind::Word(_) if keyword(&token) == Some(Keyword::Not) => {
                self.expect_operand(&token)?;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            TokenKind::Word(_) if keyword(&token).is_some() => {
                let kind = QueryErrorKind::NothingBefore {
                    operator: operator_text(&token),
                };
                Err(Fault::new(kind, token.column))
            }
            TokenKind::Open => self.group(&token),
            TokenKind::Close => Err(Fault::new(QueryErrorKind::StrayParen, token.column)),
            TokenKind::Regex(source) => pattern_term(source, token.column).map(Expr::Term),
            TokenKind::Word(word) => match word_meaning(word, token.column)? {
                Meaning::Term(term) => Ok(Expr::Term(term)),
                Meaning::AliasWantsValue(alias) => match self.peek() {
                    Some(Token {
                        kind: TokenKind::Word(value),
                        column,
                        ..
                    }) => {
                        let term = alias_term(alias, &value.text, *column)?;
                        self.next += 1;
                        Ok(Expr::Term(term))
                    }
                    _ => Err(alias_without_value(alias, token.end)),
                },
            },
        }
    }

    fn group(&mut self, open: &Token) -> Result<Expr, Fault> {
        if self.peek().is_some_and(|token| token.kind == TokenKind::Close) {
            return Err(Fault::new(QueryErrorKind::EmptyParens, open.column));
        }
        let inner = self.or()?;
        match self.advance() {
            Some(Token {
                kind: TokenKind::Close, ..
            }) => Ok(inner),
            _ => Err(Fault::new(QueryErrorKind::UnclosedParen, open.column)),
        }
    }

    /// After an operator there must be something it can apply to.
    fn expect_operand(&self, operator: &Token) -> Result<(), Fault> {
        let missing = match self.peek() {
            None => true,
            Some(token) => token.kind == TokenKind::Close || matches!(keyword(token), Some(Keyword::Or | Keyword::And)),
        };
        if missing {
            let kind = QueryErrorKind::NothingAfter {
                operator: operator_text(operator),
            };
            return Err(Fault::new(kind, operator.column));
        }
        Ok(())
    }
}

fn keyword(token: &Token) -> Option<Keyword> {
    let TokenKind::Word(word) = &token.kind else {
        return None;
    };
    if word.is_bare("or") || word.is_bare("|") {
        Some(Keyword::Or)
    } else if word.is_bare("and") {
        Some(Keyword::And)
    } else if word.is_bare("not") {
        Some(Keyword::Not)
    } else {
        None
    }
}

/// An operator as the person typed it, for an error message.
fn operator_text(token: &Token) -> String {
    match &token.kind {
        TokenKind::Negate(sign) => sign.to_string(),
        TokenKind::Word(word) => word.text.clone(),
        _ => String::new(),
    }
}
