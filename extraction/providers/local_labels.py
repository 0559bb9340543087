"""Where the local provider looks for each field: label wordings per document type and field.

Data, not code. A field's rules are tried in order and the first that yields a value wins, so
specific wordings come before general ones. A document type missing here (one an admin added)
gets no values, and the pipeline asks the applicant to enter them.

Labels are plain phrases matched case-insensitively as whole words; any run of whitespace in
the page matches a space in the phrase. A phrase ending in ":" only matches with the colon, for
words such as "Employer" that also start unrelated labels ("Employer 401(k) match").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    labels: tuple[str, ...] = ()
    # Which value right of the label to take: 0 for "Current", 1 for a "Year to date" column,
    # or the end of a range ("Pay period: 01/01/2026 - 01/14/2026").
    nth: int = 0
    # Read right of the label on its line; else (or when nothing is there) under the label.
    right: bool = True
    below: bool = True
    # For values printed without a label (a letterhead): a regex with a group named "value".
    pattern: str = ""


_COMPANY_SUFFIX = (
    r"(?:LLC|L\.L\.C\.|Inc\.?|Incorporated|Corp\.?|Corporation|Company|Co\.|Ltd\.?|LLP|LP)"
)

RULES: dict[str, dict[str, tuple[Rule, ...]]] = {
    "pay_stub": {
        "employee_name": (Rule(("Employee name", "Employee:", "Name:", "Pay to the order of")),),
        "employer_name": (
            Rule(("Employer name", "Employer:", "Company name", "Company:")),
            Rule(pattern=rf"^\s*(?P<value>[A-Z0-9][\w&.,' -]*?\s{_COMPANY_SUFFIX})(?=\s{{2,}}|$)"),
        ),
        "pay_period_start": (
            Rule(
                (
                    "Period beginning",
                    "Period begin",
                    "Period start",
                    "Pay period start",
                    "Pay period begin",
                    "Start date",
                )
            ),
            Rule(("Pay period", "Period covered", "Pay period dates")),
        ),
        "pay_period_end": (
            Rule(("Period ending", "Period end", "Pay period end", "End date")),
            Rule(("Pay period", "Period covered", "Pay period dates"), nth=1),
        ),
        "pay_date": (
            Rule(
                (
                    "Pay date",
                    "Check date",
                    "Payment date",
                    "Date paid",
                    "Deposit date",
                    "Advice date",
                    "Pay day",
                )
            ),
        ),
        "gross_pay": (
            Rule(
                (
                    "Gross pay",
                    "Gross earnings",
                    "Total gross",
                    "Gross wages",
                    "Total earnings",
                    "Gross",
                )
            ),
        ),
        "total_deductions": (
            Rule(
                (
                    "Total deductions",
                    "Deductions total",
                    "Total taxes and deductions",
                    "Total withholdings",
                )
            ),
        ),
        "net_pay": (
            Rule(
                (
                    "Net pay",
                    "Take-home pay",
                    "Take home pay",
                    "Net amount",
                    "Net check",
                    "Net earnings",
                    "Net",
                )
            ),
        ),
        "ytd_gross": (
            Rule(("YTD gross", "Year-to-date gross", "Year to date gross", "Gross YTD")),
            Rule(
                ("Gross pay", "Gross earnings", "Total gross", "Gross wages", "Total earnings"),
                nth=1,
                below=False,
            ),
        ),
    },
    "bank_statement": {
        "account_holder": (
            Rule(
                (
                    "Account holder",
                    "Account owner",
                    "Primary account holder",
                    "Account name",
                    "Customer name",
                    "Prepared for",
                )
            ),
        ),
        "bank_name": (
            Rule(("Bank name", "Bank:")),
            Rule(
                pattern=r"^\s*(?P<value>[A-Z][\w&.' -]*?\b(?:Bank|Credit Union|Savings|Bancorp)"
                r"(?:,? N\.A\.)?)(?=\s{2,}|$)"
            ),
        ),
        "account_number": (
            Rule(
                (
                    "Account number",
                    "Account no.",
                    "Account no",
                    "Account #",
                    "Acct no.",
                    "Acct #",
                    "Acct number",
                )
            ),
        ),
        "statement_start": (
            Rule(
                (
                    "Statement period",
                    "Statement dates",
                    "For the period",
                    "Period covered",
                    "Statement from",
                ),
                below=False,
            ),
            Rule(("Opening balance on", "Beginning balance on", "Balance on"), below=False),
        ),
        "statement_end": (
            Rule(
                (
                    "Statement period",
                    "Statement dates",
                    "For the period",
                    "Period covered",
                    "Statement from",
                ),
                nth=1,
                below=False,
            ),
            Rule(("Closing balance on", "Ending balance on"), below=False),
        ),
        # Bank summaries put the amount on the label's line; a table header of the same word
        # ("Withdrawals") has a transaction under it, never a total.
        "opening_balance": (
            Rule(
                (
                    "Opening balance",
                    "Beginning balance",
                    "Previous balance",
                    "Starting balance",
                    "Balance forward",
                    "Balance last statement",
                ),
                below=False,
            ),
        ),
        "total_deposits": (
            Rule(
                (
                    "Total deposits",
                    "Deposits and other credits",
                    "Deposits and credits",
                    "Total credits",
                    "Deposits and additions",
                    "Deposits",
                ),
                below=False,
            ),
        ),
        "total_withdrawals": (
            Rule(
                (
                    "Total withdrawals",
                    "Withdrawals and other debits",
                    "Withdrawals and debits",
                    "Total debits",
                    "Withdrawals and subtractions",
                    "Withdrawals",
                ),
                below=False,
            ),
        ),
        "closing_balance": (
            Rule(
                ("Closing balance", "Ending balance", "New balance", "Balance this statement"),
                below=False,
            ),
        ),
    },
    # The W-2's layout is fixed by the IRS: every value stands in a box under its label, and
    # the text right of a label is the next box's label.
    "w2": {
        "tax_year": (Rule(("Wage and Tax Statement", "Tax year"), below=False),),
        "employee_name": (
            Rule(
                ("Employee's name", "Employee's first name and initial", "Employee name"),
                right=False,
            ),
        ),
        "employee_ssn": (
            Rule(
                ("Employee's social security number", "Employee's SSN", "Social security number"),
                right=False,
            ),
        ),
        "employer_name": (Rule(("Employer's name", "Employer name"), right=False),),
        "employer_ein": (
            Rule(
                (
                    "Employer identification number",
                    "Employer's FED ID number",
                    "Employer ID number",
                    "EIN",
                ),
                right=False,
            ),
        ),
        "wages": (
            Rule(("Wages, tips, other compensation", "Wages, tips, other comp"), right=False),
        ),
        "federal_tax_withheld": (Rule(("Federal income tax withheld",), right=False),),
        "social_security_wages": (Rule(("Social security wages",), right=False),),
    },
    "utility_bill": {
        "account_holder": (
            Rule(("Customer name", "Account holder", "Account name", "Customer:", "Name:")),
        ),
        "service_address": (
            Rule(("Service address", "Service location", "Premises address", "Service at")),
        ),
        "provider_name": (
            Rule(
                pattern=r"^\s*(?P<value>[A-Z][\w&.' -]*?\b(?:Power|Light|Electric|Energy|Gas|"
                r"Water|Utilities|Utility|Communications|Wireless|Internet|Telecom)"
                r"(?: (?:&|and) [A-Z]\w+)*(?: " + _COMPANY_SUFFIX + r")?)(?=\s{2,}|$)"
            ),
        ),
        "bill_date": (
            Rule(
                (
                    "Bill date",
                    "Statement date",
                    "Billing date",
                    "Date of bill",
                    "Invoice date",
                    "Date issued",
                )
            ),
        ),
        "amount_due": (
            Rule(
                (
                    "Total amount due",
                    "Amount due",
                    "Total due",
                    "Balance due",
                    "Amount now due",
                    "Please pay",
                )
            ),
        ),
        "due_date": (
            Rule(
                ("Due date", "Payment due date", "Payment due", "Please pay by", "Due by", "Pay by")
            ),
        ),
    },
    "drivers_license": {
        "full_name": (Rule(("Full name", "Name:")),),
        "id_number": (
            Rule(
                (
                    "DL No.",
                    "DL No",
                    "DLN",
                    "License number",
                    "License no.",
                    "Lic no.",
                    "LIC#",
                    "ID number",
                    "ID no.",
                    "DL",
                )
            ),
        ),
        "date_of_birth": (Rule(("Date of birth", "Birth date", "DOB")),),
        "issue_date": (Rule(("Issue date", "Issued", "ISS")),),
        "expiration_date": (Rule(("Expiration date", "Expiration", "Expires", "EXP")),),
        "address": (Rule(("Address",)),),
        "issuing_state": (
            Rule(
                pattern=r"^\s*(?:State of )?(?P<value>[A-Z][A-Za-z]+(?: [A-Z][A-Za-z]+)?)\s+"
                r"(?:Driver'?s? License|Identification Card|ID Card)"
            ),
        ),
    },
}
