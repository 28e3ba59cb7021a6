//! The bill forms the K3Cloud simulator can save, with the fields of the
//! seed documents' target tables. Field keys match case-insensitively, as
//! K3Cloud's do (`FSaleOrgID` and `FSaleOrgId` are one field).

/// Base data a field refers to; its value must exist in the master data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BaseKind {
    Material,
    Supplier,
    Customer,
    Stock,
    Org,
    Currency,
    Unit,
    BillType,
    /// Departments, customer materials, assistant data: references the
    /// simulator has no master data for; kept, not checked.
    Unchecked,
}

impl BaseKind {
    /// How K3Cloud names the code in "…编码“X”不存在".
    pub fn label(self) -> &'static str {
        match self {
            BaseKind::Material => "物料编码",
            BaseKind::Supplier => "供应商编码",
            BaseKind::Customer => "客户编码",
            BaseKind::Stock => "仓库编码",
            BaseKind::Org => "组织编码",
            BaseKind::Currency => "币别编码",
            BaseKind::Unit => "单位编码",
            BaseKind::BillType => "单据类型编码",
            BaseKind::Unchecked => "编码",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldKind {
    Text,
    Date,
    Decimal,
    Base(BaseKind),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldDef {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
}

const fn f(key: &'static str, label: &'static str, kind: FieldKind) -> FieldDef {
    FieldDef { key, label, kind }
}

use BaseKind as B;
use FieldKind::{Base, Date, Decimal, Text};

#[derive(Debug)]
pub(crate) struct EntityDef {
    pub key: &'static str,
    pub label: &'static str,
    pub fields: &'static [FieldDef],
    pub required: &'static [&'static str],
    /// The quantity field, which must be greater than zero.
    pub qty: &'static str,
}

#[derive(Debug)]
pub(crate) struct FormDef {
    pub id: &'static str,
    pub name: &'static str,
    pub header: &'static [FieldDef],
    pub required: &'static [&'static str],
    pub entity: EntityDef,
    pub bill_types: &'static [&'static str],
}

impl FormDef {
    pub fn header_field(&self, key: &str) -> Option<&'static FieldDef> {
        self.header.iter().find(|d| d.key.eq_ignore_ascii_case(key))
    }

    pub fn entry_field(&self, key: &str) -> Option<&'static FieldDef> {
        self.entity
            .fields
            .iter()
            .find(|d| d.key.eq_ignore_ascii_case(key))
    }
}

// Required fields follow the seed documents' target tables; `FBillNo` is
// required although K3Cloud can number a bill itself, because weft's
// idempotency rests on it. UNCONFIRMED: see docs/protocol-choices.md.
pub(crate) static PUR_PURCHASE_ORDER: FormDef = FormDef {
    id: "PUR_PurchaseOrder",
    name: "采购订单",
    header: &[
        f("FBillNo", "单据编号", Text),
        f("FDate", "采购日期", Date),
        f("FBillTypeID", "单据类型", Base(B::BillType)),
        f("FBusinessType", "业务类型", Text),
        f("FPurchaseOrgId", "采购组织", Base(B::Org)),
        f("FSupplierId", "供应商", Base(B::Supplier)),
        f("FSettleCurrId", "结算币别", Base(B::Currency)),
        f("FPurchaserId", "采购员", Base(B::Unchecked)),
        f("FPurchaseDeptId", "采购部门", Base(B::Unchecked)),
        f("FNote", "备注", Text),
        f("FCloseStatus", "关闭状态", Text),
        f("FCancelStatus", "作废状态", Text),
    ],
    required: &["FBillNo", "FDate", "FPurchaseOrgId", "FSupplierId"],
    entity: EntityDef {
        key: "FPOOrderEntry",
        label: "明细信息",
        fields: &[
            f("FMaterialId", "物料编码", Base(B::Material)),
            f("FUnitId", "采购单位", Base(B::Unit)),
            f("FQty", "采购数量", Decimal),
            f("FPrice", "单价", Decimal),
            f("FTaxPrice", "含税单价", Decimal),
            f("FEntryTaxRate", "税率%", Decimal),
            f("FAllAmount", "价税合计", Decimal),
            f("FAmount", "金额", Decimal),
            f("FEntryNote", "备注", Text),
            f("FDeliveryDate", "交货日期", Date),
            f("FReceiveOrgId", "收料组织", Base(B::Org)),
            f("FRequireOrgId", "需求组织", Base(B::Org)),
            f("FEntryPayOrgId", "付款组织", Base(B::Org)),
            f("FEntrySettleOrgId", "结算组织", Base(B::Org)),
        ],
        required: &["FMaterialId", "FQty"],
        qty: "FQty",
    },
    bill_types: &["CGDD01_SYS", "CGDD02_SYS", "CGDD03_SYS"],
};

pub(crate) static SAL_RETURNSTOCK: FormDef = FormDef {
    id: "SAL_RETURNSTOCK",
    name: "销售退货单",
    header: &[
        f("FBillNo", "单据编号", Text),
        f("FDate", "日期", Date),
        f("FBillTypeID", "单据类型", Base(B::BillType)),
        f("FSaleOrgId", "销售组织", Base(B::Org)),
        f("FStockOrgId", "库存组织", Base(B::Org)),
        f("FRetcustId", "退货客户", Base(B::Customer)),
        f("FSettleCurrId", "结算币别", Base(B::Currency)),
        f("FSettleOrgId", "结算组织", Base(B::Org)),
        f("FHeadNote", "备注", Text),
        f("FSaledeptid", "销售部门", Base(B::Unchecked)),
    ],
    required: &[
        "FBillNo",
        "FDate",
        "FSaleOrgId",
        "FStockOrgId",
        "FRetcustId",
    ],
    entity: EntityDef {
        key: "FEntity",
        label: "明细信息",
        fields: &[
            f("FMaterialId", "物料编码", Base(B::Material)),
            f("FUnitID", "库存单位", Base(B::Unit)),
            f("FRealQty", "实退数量", Decimal),
            f("FPrice", "单价", Decimal),
            f("FTaxPrice", "含税单价", Decimal),
            f("FIsFree", "是否赠品", Text),
            f("FEntryTaxRate", "税率%", Decimal),
            f("FReturnType", "退货类型", Base(B::Unchecked)),
            f("FOwnerTypeId", "货主类型", Text),
            f("FOwnerId", "货主", Base(B::Org)),
            f("FStockId", "仓库", Base(B::Stock)),
            f("FNote", "备注", Text),
        ],
        required: &["FMaterialId", "FRealQty"],
        qty: "FRealQty",
    },
    bill_types: &["XSTHD01_SYS", "XSTHD02_SYS"],
};

pub(crate) static SAL_OUTSTOCK: FormDef = FormDef {
    id: "SAL_OUTSTOCK",
    name: "销售出库单",
    header: &[
        f("FBillNo", "单据编号", Text),
        f("FDate", "日期", Date),
        f("FBillTypeID", "单据类型", Base(B::BillType)),
        f("FSaleOrgId", "销售组织", Base(B::Org)),
        f("FCustomerID", "客户", Base(B::Customer)),
        f("FNote", "备注", Text),
        f("FStockOrgId", "发货组织", Base(B::Org)),
        f("FOwnerTypeIdHead", "货主类型", Text),
        f("FOwnerIdHead", "货主", Base(B::Org)),
        f("FSettleCurrID", "结算币别", Base(B::Currency)),
        f("FSaleDeptID", "销售部门", Base(B::Unchecked)),
    ],
    required: &[
        "FBillNo",
        "FDate",
        "FSaleOrgId",
        "FStockOrgId",
        "FCustomerID",
    ],
    entity: EntityDef {
        key: "FEntity",
        label: "明细信息",
        fields: &[
            f("FCustMatID", "客户物料编码", Base(B::Unchecked)),
            f("FMaterialID", "物料编码", Base(B::Material)),
            f("FUnitID", "库存单位", Base(B::Unit)),
            f("FRealQty", "实发数量", Decimal),
            f("FPrice", "单价", Decimal),
            f("FAmount", "金额", Decimal),
            f("FStockID", "仓库", Base(B::Stock)),
            f("FEntrynote", "备注", Text),
            f("FTaxPrice", "含税单价", Decimal),
            f("FDiscount", "折扣额", Decimal),
            f("FEntryTaxRate", "税率", Decimal),
            f("FSoorDerno", "订单单号", Text),
            f("F_QKZI_Decimal1", "吉客云折后总金额", Decimal),
            f("FJKShopNumber", "网店订单号", Text),
            f("FPostid", "吉客云物流单号", Text),
            f("FWeight", "包裹重量", Decimal),
            f("FLogisticName", "物流公司", Text),
            f("FSaleDeptID", "销售部门", Base(B::Unchecked)),
            f("FDeliveryDeptID", "发货部门", Base(B::Unchecked)),
            f("F_QKZI_Assistant", "往来类型", Base(B::Unchecked)),
            f("FOwnerTypeID", "货主类型", Text),
            f("FOwnerID", "货主", Base(B::Org)),
        ],
        required: &["FMaterialID", "FRealQty"],
        qty: "FRealQty",
    },
    bill_types: &["XSCKD01_SYS", "XSCKD02_SYS"],
};

pub(crate) static BILL_FORMS: [&FormDef; 3] =
    [&PUR_PURCHASE_ORDER, &SAL_RETURNSTOCK, &SAL_OUTSTOCK];

pub(crate) fn bill_form(id: &str) -> Option<&'static FormDef> {
    BILL_FORMS
        .iter()
        .copied()
        .find(|f| f.id.eq_ignore_ascii_case(id))
}
