// The expression grammar, kept as a string so the runtime bundles for the browser without a
// file loader. It is the same text as expression.ohm (a test keeps the two equal); edit both.
export const EXPRESSION_GRAMMAR = String.raw`
SyncflowExpression {
  Exp = OrExp

  OrExp = OrExp or AndExp  -- or
        | AndExp

  AndExp = AndExp and NotExp  -- and
         | NotExp

  NotExp = not NotExp  -- not
         | CmpExp

  CmpExp = AddExp cmpOp AddExp  -- cmp
         | AddExp

  AddExp = AddExp addOp MulExp  -- add
         | MulExp

  MulExp = MulExp mulOp UnaryExp  -- mul
         | UnaryExp

  UnaryExp = "-" UnaryExp  -- neg
           | Primary

  Primary = "(" Exp ")"  -- paren
          | IfExp
          | Call
          | path
          | literal

  IfExp = if Exp then Exp else Exp

  Call = ident "(" ListOf<Exp, ","> ")"

  path = "$" name ("/" name)*

  literal = number | string | true | false | empty

  number = digit+ "." digit+  -- decimal
         | digit+  -- integer

  string = "'" stringChar* "'"
  stringChar = "''"  -- quote
             | ~"'" any  -- char

  cmpOp = "<=" | ">=" | "!=" | "=" | "<" | ">"
  addOp = "+" | "-"
  mulOp = "*" | ":" | div | mod

  ident = ~keyword name
  name = identStart identPart*
  identStart = letter | "_"
  identPart = alnum | "_"

  keyword = (if | then | else | and | or | not | div | mod | true | false | empty) ~identPart
  if = "if" ~identPart
  then = "then" ~identPart
  else = "else" ~identPart
  and = "and" ~identPart
  or = "or" ~identPart
  not = "not" ~identPart
  div = "div" ~identPart
  mod = "mod" ~identPart
  true = "true" ~identPart
  false = "false" ~identPart
  empty = "empty" ~identPart
}
`;
