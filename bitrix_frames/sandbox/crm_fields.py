"""Static field metadata of the legacy CRM entities (PROTOCOL §8, §11), in the docs' order.

Each entity has ``FIELDS`` (what ``crm.X.fields`` lists, in that order; flags: ``R`` required,
``r`` read-only, ``I`` immutable, ``M`` multiple, ``d`` deprecated; the optional fifth item is the
``statusType`` of a crm_status field or the ``parentEntityTypeId`` of a link) and ``ORDER`` (the key
order of ``crm.X.get`` / ``select: ["*"]`` rows, which is the database order of the real server).
User fields (``UF_CRM_*``) come from the ``crm_userfield`` table at run time.

Example::

    >>> ENTITIES["deal"].field("CATEGORY_ID").immutable
    True
    >>> ENTITIES["lead"].order[:3]
    ('ID', 'TITLE', 'HONORIFIC')
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

_F = tuple

MULTIFIELDS = ("PHONE", "EMAIL", "WEB", "IM", "LINK")
"""Multifield types in the order ``get`` renders them."""

LEAD_FIELDS: tuple[_F, ...] = (
    ("ID", "integer", "r", "ID"),
    ("TITLE", "string", "", "Lead Title"),
    ("HONORIFIC", "crm_status", "", "Salutation", "HONORIFIC"),
    ("NAME", "string", "", "First Name"),
    ("SECOND_NAME", "string", "", "Middle Name"),
    ("LAST_NAME", "string", "", "Last Name"),
    ("BIRTHDATE", "date", "", "Birthdate"),
    ("COMPANY_TITLE", "string", "", "Company Name"),
    ("SOURCE_ID", "crm_status", "", "Source", "SOURCE"),
    ("SOURCE_DESCRIPTION", "string", "", "Source Description"),
    ("STATUS_ID", "crm_status", "", "Stage", "STATUS"),
    ("STATUS_DESCRIPTION", "string", "", "Stage Description"),
    ("STATUS_SEMANTIC_ID", "string", "r", "Status Semantic"),
    ("POST", "string", "", "Position"),
    ("ADDRESS", "string", "", "Address"),
    ("ADDRESS_2", "string", "", "Address (Line 2)"),
    ("ADDRESS_CITY", "string", "", "City"),
    ("ADDRESS_POSTAL_CODE", "string", "", "Postal Code"),
    ("ADDRESS_REGION", "string", "", "Region"),
    ("ADDRESS_PROVINCE", "string", "", "Province"),
    ("ADDRESS_COUNTRY", "string", "", "Country"),
    ("ADDRESS_COUNTRY_CODE", "string", "", "Country Code"),
    ("ADDRESS_LOC_ADDR_ID", "integer", "", "Location Address ID"),
    ("CURRENCY_ID", "crm_currency", "", "Currency"),
    ("OPPORTUNITY", "double", "", "Amount"),
    ("IS_MANUAL_OPPORTUNITY", "char", "", "IS_MANUAL_OPPORTUNITY"),
    ("OPENED", "char", "", "Available to All"),
    ("COMMENTS", "string", "", "Comments"),
    ("HAS_PHONE", "char", "r", "Phone Provided"),
    ("HAS_EMAIL", "char", "r", "Email Provided"),
    ("HAS_IMOL", "char", "r", "Open Line Assigned"),
    ("ASSIGNED_BY_ID", "user", "", "Responsible User"),
    ("CREATED_BY_ID", "user", "r", "Created By"),
    ("MODIFY_BY_ID", "user", "r", "Modified By"),
    ("MOVED_BY_ID", "user", "r", "MOVED_BY_ID"),
    ("DATE_CREATE", "datetime", "r", "Creation Date"),
    ("DATE_MODIFY", "datetime", "r", "Modification Date"),
    ("MOVED_TIME", "datetime", "r", "MOVED_TIME"),
    ("COMPANY_ID", "crm_company", "", "Company", 4),
    ("CONTACT_ID", "crm_contact", "d", "Contact"),
    ("CONTACT_IDS", "crm_contact", "M", "CONTACT_IDS"),
    ("IS_RETURN_CUSTOMER", "char", "r", "Returning Lead"),
    ("DATE_CLOSED", "datetime", "r", "Closing Date"),
    ("ORIGINATOR_ID", "string", "", "External Source"),
    ("ORIGIN_ID", "string", "", "Identifier in External Source"),
    ("UTM_SOURCE", "string", "", "Advertising System"),
    ("UTM_MEDIUM", "string", "", "Traffic Type"),
    ("UTM_CAMPAIGN", "string", "", "Campaign Identifier"),
    ("UTM_CONTENT", "string", "", "Campaign Content"),
    ("UTM_TERM", "string", "", "Campaign Search Term"),
    ("LAST_ACTIVITY_TIME", "datetime", "r", "LAST_ACTIVITY_TIME"),
    ("LAST_ACTIVITY_BY", "user", "r", "LAST_ACTIVITY_BY"),
    ("PHONE", "crm_multifield", "M", "Phone"),
    ("EMAIL", "crm_multifield", "M", "E-mail"),
    ("WEB", "crm_multifield", "M", "Website"),
    ("IM", "crm_multifield", "M", "Messenger"),
    ("LINK", "crm_multifield", "M", "LINK"),
)
LEAD_ORDER = (
    "ID",
    "TITLE",
    "HONORIFIC",
    "NAME",
    "SECOND_NAME",
    "LAST_NAME",
    "COMPANY_TITLE",
    "COMPANY_ID",
    "CONTACT_ID",
    "IS_RETURN_CUSTOMER",
    "BIRTHDATE",
    "SOURCE_ID",
    "SOURCE_DESCRIPTION",
    "STATUS_ID",
    "STATUS_DESCRIPTION",
    "POST",
    "COMMENTS",
    "CURRENCY_ID",
    "OPPORTUNITY",
    "IS_MANUAL_OPPORTUNITY",
    "HAS_PHONE",
    "HAS_EMAIL",
    "HAS_IMOL",
    "ASSIGNED_BY_ID",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "DATE_CREATE",
    "DATE_MODIFY",
    "DATE_CLOSED",
    "STATUS_SEMANTIC_ID",
    "OPENED",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "MOVED_BY_ID",
    "MOVED_TIME",
    "ADDRESS",
    "ADDRESS_2",
    "ADDRESS_CITY",
    "ADDRESS_POSTAL_CODE",
    "ADDRESS_REGION",
    "ADDRESS_PROVINCE",
    "ADDRESS_COUNTRY",
    "ADDRESS_COUNTRY_CODE",
    "ADDRESS_LOC_ADDR_ID",
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
    "LAST_ACTIVITY_BY",
    "LAST_ACTIVITY_TIME",
)
DEAL_FIELDS: tuple[_F, ...] = (
    ("ID", "integer", "r", "ID"),
    ("TITLE", "string", "", "Title"),
    ("TYPE_ID", "crm_status", "", "Type", "DEAL_TYPE"),
    ("CATEGORY_ID", "crm_category", "I", "Sales Funnel"),
    ("STAGE_ID", "crm_status", "", "Deal Stage", "DEAL_STAGE"),
    ("STAGE_SEMANTIC_ID", "string", "r", "Stage Group"),
    ("IS_NEW", "char", "r", "New Deal"),
    ("IS_RECURRING", "char", "", "Recurring Deal"),
    ("IS_RETURN_CUSTOMER", "char", "", "Repeat Deal"),
    ("IS_REPEATED_APPROACH", "char", "", "Repeated Approach"),
    ("PROBABILITY", "integer", "", "Probability"),
    ("CURRENCY_ID", "crm_currency", "", "Currency"),
    ("OPPORTUNITY", "double", "", "Amount"),
    ("IS_MANUAL_OPPORTUNITY", "char", "", "IS_MANUAL_OPPORTUNITY"),
    ("TAX_VALUE", "double", "", "Tax Rate"),
    ("COMPANY_ID", "crm_company", "", "Company", 4),
    ("CONTACT_ID", "crm_contact", "d", "Contact"),
    ("CONTACT_IDS", "crm_contact", "M", "Contacts"),
    ("QUOTE_ID", "crm_quote", "r", "Estimate", 7),
    ("BEGINDATE", "date", "", "Start Date"),
    ("CLOSEDATE", "date", "", "Close Date"),
    ("OPENED", "char", "", "Available to All"),
    ("CLOSED", "char", "", "Closed"),
    ("COMMENTS", "string", "", "Comment"),
    ("ASSIGNED_BY_ID", "user", "", "Responsible"),
    ("CREATED_BY_ID", "user", "r", "Created By"),
    ("MODIFY_BY_ID", "user", "r", "Modified By"),
    ("MOVED_BY_ID", "user", "r", "MOVED_BY_ID"),
    ("DATE_CREATE", "datetime", "r", "Creation Date"),
    ("DATE_MODIFY", "datetime", "r", "Modification Date"),
    ("MOVED_TIME", "datetime", "r", "MOVED_TIME"),
    ("SOURCE_ID", "crm_status", "", "Source", "SOURCE"),
    ("SOURCE_DESCRIPTION", "string", "", "Additional Info about Source"),
    ("LEAD_ID", "crm_lead", "r", "Lead", 1),
    ("ADDITIONAL_INFO", "string", "", "Additional Information"),
    ("LOCATION_ID", "location", "", "Location"),
    ("ORIGINATOR_ID", "string", "", "External Source"),
    ("ORIGIN_ID", "string", "", "Identifier in External Source"),
    ("UTM_SOURCE", "string", "", "Advertising System"),
    ("UTM_MEDIUM", "string", "", "Traffic Type"),
    ("UTM_CAMPAIGN", "string", "", "Campaign Identifier"),
    ("UTM_CONTENT", "string", "", "Campaign Content"),
    ("UTM_TERM", "string", "", "Campaign Search Condition"),
    ("LAST_ACTIVITY_TIME", "datetime", "r", "LAST_ACTIVITY_TIME"),
    ("LAST_ACTIVITY_BY", "user", "r", "LAST_ACTIVITY_BY"),
)
DEAL_ORDER = (
    "ID",
    "TITLE",
    "TYPE_ID",
    "STAGE_ID",
    "PROBABILITY",
    "CURRENCY_ID",
    "OPPORTUNITY",
    "IS_MANUAL_OPPORTUNITY",
    "TAX_VALUE",
    "LEAD_ID",
    "COMPANY_ID",
    "CONTACT_ID",
    "QUOTE_ID",
    "BEGINDATE",
    "CLOSEDATE",
    "ASSIGNED_BY_ID",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "DATE_CREATE",
    "DATE_MODIFY",
    "OPENED",
    "CLOSED",
    "COMMENTS",
    "ADDITIONAL_INFO",
    "LOCATION_ID",
    "CATEGORY_ID",
    "STAGE_SEMANTIC_ID",
    "IS_NEW",
    "IS_RECURRING",
    "IS_RETURN_CUSTOMER",
    "IS_REPEATED_APPROACH",
    "SOURCE_ID",
    "SOURCE_DESCRIPTION",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "MOVED_BY_ID",
    "MOVED_TIME",
    "LAST_ACTIVITY_TIME",
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
    "LAST_ACTIVITY_BY",
)
CONTACT_FIELDS: tuple[_F, ...] = (
    ("ID", "integer", "r", "ID"),
    ("HONORIFIC", "crm_status", "", "Salutation", "HONORIFIC"),
    ("NAME", "string", "", "First Name"),
    ("SECOND_NAME", "string", "", "Middle Name"),
    ("LAST_NAME", "string", "", "Last Name"),
    ("PHOTO", "file", "", "Photo"),
    ("BIRTHDATE", "date", "", "Birthdate"),
    ("TYPE_ID", "crm_status", "", "Contact Type", "CONTACT_TYPE"),
    ("SOURCE_ID", "crm_status", "", "Source", "SOURCE"),
    ("SOURCE_DESCRIPTION", "string", "", "Additional Source Information"),
    ("POST", "string", "", "Position"),
    ("ADDRESS", "string", "", "Address"),
    ("ADDRESS_2", "string", "", "Address (Line 2)"),
    ("ADDRESS_CITY", "string", "", "City"),
    ("ADDRESS_POSTAL_CODE", "string", "", "Postal Code"),
    ("ADDRESS_REGION", "string", "", "Region"),
    ("ADDRESS_PROVINCE", "string", "", "Province"),
    ("ADDRESS_COUNTRY", "string", "", "Country"),
    ("ADDRESS_COUNTRY_CODE", "string", "", "Country Code"),
    ("ADDRESS_LOC_ADDR_ID", "integer", "", "Location Address ID"),
    ("COMMENTS", "string", "", "Comment"),
    ("OPENED", "char", "", "Available to All"),
    ("EXPORT", "char", "", "Participates in Contact Export"),
    ("HAS_PHONE", "char", "r", "Phone Set"),
    ("HAS_EMAIL", "char", "r", "E-mail Set"),
    ("HAS_IMOL", "char", "r", "Open Line Set"),
    ("ASSIGNED_BY_ID", "user", "", "Responsible Person"),
    ("CREATED_BY_ID", "user", "r", "Created By"),
    ("MODIFY_BY_ID", "user", "r", "Modified By"),
    ("DATE_CREATE", "datetime", "r", "Creation Date"),
    ("DATE_MODIFY", "datetime", "r", "Modification Date"),
    ("COMPANY_ID", "crm_company", "d", "Company"),
    ("COMPANY_IDS", "crm_company", "M", "COMPANY_IDS"),
    ("LEAD_ID", "crm_lead", "r", "Lead", 1),
    ("ORIGINATOR_ID", "string", "", "External Source"),
    ("ORIGIN_ID", "string", "", "Identifier in External Source"),
    ("ORIGIN_VERSION", "string", "", "Original Version"),
    ("UTM_SOURCE", "string", "", "Advertising System"),
    ("UTM_MEDIUM", "string", "", "Traffic Type"),
    ("UTM_CAMPAIGN", "string", "", "Campaign Identifier"),
    ("UTM_CONTENT", "string", "", "Campaign Content"),
    ("UTM_TERM", "string", "", "Campaign Search Condition"),
    ("LAST_ACTIVITY_TIME", "datetime", "r", "Last Activity"),
    ("LAST_ACTIVITY_BY", "user", "r", "Last Activity By"),
    ("PHONE", "crm_multifield", "M", "Phone"),
    ("EMAIL", "crm_multifield", "M", "E-mail"),
    ("WEB", "crm_multifield", "M", "Website"),
    ("IM", "crm_multifield", "M", "Messenger"),
    ("LINK", "crm_multifield", "M", "LINK"),
)
CONTACT_ORDER = (
    "ID",
    "POST",
    "COMMENTS",
    "HONORIFIC",
    "NAME",
    "SECOND_NAME",
    "LAST_NAME",
    "PHOTO",
    "LEAD_ID",
    "TYPE_ID",
    "SOURCE_ID",
    "SOURCE_DESCRIPTION",
    "COMPANY_ID",
    "BIRTHDATE",
    "EXPORT",
    "HAS_PHONE",
    "HAS_EMAIL",
    "HAS_IMOL",
    "DATE_CREATE",
    "DATE_MODIFY",
    "ASSIGNED_BY_ID",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "OPENED",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "ORIGIN_VERSION",
    "FACE_ID",
    "LAST_ACTIVITY_TIME",
    "ADDRESS",
    "ADDRESS_2",
    "ADDRESS_CITY",
    "ADDRESS_POSTAL_CODE",
    "ADDRESS_REGION",
    "ADDRESS_PROVINCE",
    "ADDRESS_COUNTRY",
    "ADDRESS_COUNTRY_CODE",
    "ADDRESS_LOC_ADDR_ID",
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
    "LAST_ACTIVITY_BY",
)
COMPANY_FIELDS: tuple[_F, ...] = (
    ("ID", "integer", "r", "ID"),
    ("TITLE", "string", "R", "Company Name"),
    ("COMPANY_TYPE", "crm_status", "", "Company Type", "COMPANY_TYPE"),
    ("LOGO", "file", "", "Logo"),
    ("ADDRESS", "string", "", "Physical Address"),
    ("ADDRESS_2", "string", "", "Address (line 2)"),
    ("ADDRESS_CITY", "string", "", "City"),
    ("ADDRESS_POSTAL_CODE", "string", "", "Postal Code"),
    ("ADDRESS_REGION", "string", "", "Region"),
    ("ADDRESS_PROVINCE", "string", "", "Province"),
    ("ADDRESS_COUNTRY", "string", "", "Country"),
    ("ADDRESS_COUNTRY_CODE", "string", "", "Country Code"),
    ("ADDRESS_LOC_ADDR_ID", "integer", "", "Location Address ID"),
    ("ADDRESS_LEGAL", "string", "", "Legal Address"),
    ("REG_ADDRESS", "string", "", "Legal Address"),
    ("REG_ADDRESS_2", "string", "", "Legal Address (line 2)"),
    ("REG_ADDRESS_CITY", "string", "", "Legal Address City"),
    ("REG_ADDRESS_POSTAL_CODE", "string", "", "Legal Address Postal Code"),
    ("REG_ADDRESS_REGION", "string", "", "Legal Address Region"),
    ("REG_ADDRESS_PROVINCE", "string", "", "Legal Address Province"),
    ("REG_ADDRESS_COUNTRY", "string", "", "Legal Address Country"),
    ("REG_ADDRESS_COUNTRY_CODE", "string", "", "Legal Address Country Code"),
    ("REG_ADDRESS_LOC_ADDR_ID", "integer", "", "Legal Address Location ID"),
    ("BANKING_DETAILS", "string", "", "Banking Details"),
    ("INDUSTRY", "crm_status", "", "Industry", "INDUSTRY"),
    ("EMPLOYEES", "crm_status", "", "Number of Employees", "EMPLOYEES"),
    ("CURRENCY_ID", "crm_currency", "", "Currency"),
    ("REVENUE", "double", "", "Annual Revenue"),
    ("OPENED", "char", "", "Available to Everyone"),
    ("COMMENTS", "string", "", "Comment"),
    ("HAS_PHONE", "char", "r", "Phone Set"),
    ("HAS_EMAIL", "char", "r", "E-mail Set"),
    ("HAS_IMOL", "char", "r", "Open Line Set"),
    ("IS_MY_COMPANY", "char", "", "My Company"),
    ("ASSIGNED_BY_ID", "user", "", "Responsible Person"),
    ("CREATED_BY_ID", "user", "r", "Created By"),
    ("MODIFY_BY_ID", "user", "r", "Modified By"),
    ("DATE_CREATE", "datetime", "r", "Creation Date"),
    ("DATE_MODIFY", "datetime", "r", "Modification Date"),
    ("CONTACT_ID", "crm_contact", "M", "Contact"),
    ("LEAD_ID", "crm_lead", "r", "Lead", 1),
    ("ORIGINATOR_ID", "string", "", "External Source"),
    ("ORIGIN_ID", "string", "", "Identifier in External Source"),
    ("ORIGIN_VERSION", "string", "", "Original Version"),
    ("UTM_SOURCE", "string", "", "Advertising System"),
    ("UTM_MEDIUM", "string", "", "Traffic Type"),
    ("UTM_CAMPAIGN", "string", "", "Campaign Identifier"),
    ("UTM_CONTENT", "string", "", "Campaign Content"),
    ("UTM_TERM", "string", "", "Campaign Search Term"),
    ("LAST_ACTIVITY_TIME", "datetime", "", "Last Activity Time"),
    ("LAST_ACTIVITY_BY", "user", "", "Last Activity Author"),
    ("LAST_COMMUNICATION_TIME", "string", "r", "Last Communication Date"),
    ("PHONE", "crm_multifield", "M", "Phone"),
    ("EMAIL", "crm_multifield", "M", "E-mail"),
    ("WEB", "crm_multifield", "M", "Website"),
    ("IM", "crm_multifield", "M", "Messenger"),
    ("LINK", "crm_multifield", "M", "LINK"),
)
COMPANY_ORDER = (
    "ID",
    "COMPANY_TYPE",
    "TITLE",
    "LOGO",
    "LEAD_ID",
    "HAS_PHONE",
    "HAS_EMAIL",
    "HAS_IMOL",
    "ASSIGNED_BY_ID",
    "CREATED_BY_ID",
    "MODIFY_BY_ID",
    "BANKING_DETAILS",
    "INDUSTRY",
    "REVENUE",
    "CURRENCY_ID",
    "EMPLOYEES",
    "COMMENTS",
    "DATE_CREATE",
    "DATE_MODIFY",
    "OPENED",
    "IS_MY_COMPANY",
    "ORIGINATOR_ID",
    "ORIGIN_ID",
    "ORIGIN_VERSION",
    "ADDRESS",
    "ADDRESS_2",
    "ADDRESS_CITY",
    "ADDRESS_POSTAL_CODE",
    "ADDRESS_REGION",
    "ADDRESS_PROVINCE",
    "ADDRESS_COUNTRY",
    "ADDRESS_COUNTRY_CODE",
    "ADDRESS_LOC_ADDR_ID",
    "ADDRESS_LEGAL",
    "REG_ADDRESS",
    "REG_ADDRESS_2",
    "REG_ADDRESS_CITY",
    "REG_ADDRESS_POSTAL_CODE",
    "REG_ADDRESS_REGION",
    "REG_ADDRESS_PROVINCE",
    "REG_ADDRESS_COUNTRY",
    "REG_ADDRESS_COUNTRY_CODE",
    "REG_ADDRESS_LOC_ADDR_ID",
    "UTM_SOURCE",
    "UTM_MEDIUM",
    "UTM_CAMPAIGN",
    "UTM_CONTENT",
    "UTM_TERM",
    "LAST_ACTIVITY_BY",
    "LAST_ACTIVITY_TIME",
    "LAST_COMMUNICATION_TIME",
)


@dataclass(frozen=True)
class FieldDef:
    """One standard field: metadata plus the flags handlers need."""

    name: str
    type: str
    title: str
    required: bool = False
    read_only: bool = False
    immutable: bool = False
    multiple: bool = False
    deprecated: bool = False
    status_type: str | None = None
    parent_type: int | None = None

    def meta(self) -> dict:
        """The ``crm.X.fields`` entry, keys in the documented order."""
        out: dict = {
            "type": self.type,
            "isRequired": self.required,
            "isReadOnly": self.read_only,
            "isImmutable": self.immutable,
            "isMultiple": self.multiple,
            "isDynamic": False,
        }
        if self.deprecated:
            out["isDeprecated"] = True
        if self.status_type:
            out["statusType"] = self.status_type
        out["title"] = self.title
        if self.parent_type is not None:
            out["settings"] = {"parentEntityTypeId": self.parent_type}
        return out


def _build(rows: tuple) -> tuple[FieldDef, ...]:
    out = []
    for row in rows:
        name, ftype, flags, title = row[:4]
        extra = row[4] if len(row) > 4 else None
        out.append(
            FieldDef(
                name,
                ftype,
                title,
                required="R" in flags,
                read_only="r" in flags,
                immutable="I" in flags,
                multiple="M" in flags,
                deprecated="d" in flags,
                status_type=extra if isinstance(extra, str) else None,
                parent_type=extra if isinstance(extra, int) else None,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class EntityDef:
    """A legacy CRM entity: names, table, UF entity id, fields and row order."""

    name: str  # "lead"
    title: str  # "Lead" (error texts)
    table: str  # "crm_lead"
    uf_entity: str  # "CRM_LEAD"
    fm_code: str  # owner code in crm_fm: L, C, CO ("" = no multifields)
    fields: tuple[FieldDef, ...]
    order: tuple[str, ...]

    @cached_property
    def by_name(self) -> dict[str, FieldDef]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> FieldDef:
        return self.by_name[name]

    @property
    def multifields(self) -> tuple[str, ...]:
        return MULTIFIELDS if self.fm_code else ()


ENTITIES: dict[str, EntityDef] = {
    "lead": EntityDef("lead", "Lead", "crm_lead", "CRM_LEAD", "L", _build(LEAD_FIELDS), LEAD_ORDER),
    "deal": EntityDef("deal", "Deal", "crm_deal", "CRM_DEAL", "", _build(DEAL_FIELDS), DEAL_ORDER),
    "contact": EntityDef(
        "contact",
        "Contact",
        "crm_contact",
        "CRM_CONTACT",
        "C",
        _build(CONTACT_FIELDS),
        CONTACT_ORDER,
    ),
    "company": EntityDef(
        "company",
        "Company",
        "crm_company",
        "CRM_COMPANY",
        "CO",
        _build(COMPANY_FIELDS),
        COMPANY_ORDER,
    ),
}
