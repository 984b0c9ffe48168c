"""What the demo county's disputes are about, in the words people use: the tales (a type, a
title and an account with the parties' names left open), and the notes, places and bodies the
steps of a dispute are written with. Plain data; `pingan.demo.disputes` plays them out.

The accounts are written for the risk rules: the red tales name a threat, a weapon or
self-harm; the others never do (a stray “镰刀” in a harvest story would paint it red); the
yellow ones carry a vulnerable party, five or more parties or an amount of 100,000 yuan.
"""

from dataclasses import dataclass

from pingan.disputes.models import DisputeType
from pingan.incidents.models import Outcome
from pingan.orgs.models import GridKind

URBAN, RURAL, PARK, SCENIC = (
    GridKind.URBAN_COMMUNITY,
    GridKind.RURAL_VILLAGE,
    GridKind.INDUSTRIAL_PARK,
    GridKind.SCENIC_AREA,
)
T = DisputeType


@dataclass(frozen=True)
class Tale:
    """One kind of dispute as people tell it. `cast` says who is involved (see `Cast.build`);
    placeholders: {a} applicant, {b} respondent, {c} a second respondent, {k} a child and
    {kage} their age, {o} an organisation, {n} how many people, {place} the village or
    community, {money} the amount in words, {age} an elderly party's age."""

    type: str
    title: str
    text: str
    cast: str = "pair"
    kinds: tuple = ()  # grid kinds where it happens; empty = anywhere
    amount: tuple | None = None  # (low, high) yuan
    terms: str = ""  # the agreement's terms; empty = the type's generic terms


# Ordinary disputes: no threat, no vulnerable party, under five parties, under 100,000 yuan.
GREEN_TALES = (
    Tale(
        T.NEIGHBOUR,
        "排水沟堵塞引发邻里纠纷",
        "{b}家翻修院子时把两家之间的排水沟填平了，连下几场雨后积水漫进{a}家厨房。{a}多次上门"
        "要求恢复排水沟，{b}认为沟在自家地界内，双方在村道上发生口角。",
        kinds=(RURAL,),
        terms="一、{b}于协议签订后七日内在两家院墙之间重新开挖排水沟，宽度不少于三十公分，费用由"
        "{b}承担；二、{a}家厨房受损部分的维修费用由双方各承担一半；三、双方今后和睦相处，不再因此"
        "事发生争执。",
    ),
    Tale(
        T.NEIGHBOUR,
        "楼上漏水纠纷",
        "{a}家卫生间天花板反复渗水，墙皮大面积脱落，怀疑是楼上{b}家卫生间防水层破损所致。{b}"
        "认为是外墙渗水，不愿承担维修费用，双方多次争执。",
        kinds=(URBAN,),
        amount=(1500, 6000),
        terms="一、由物业服务中心请专业人员检测漏水点；二、确认系{b}家防水层破损的，{b}负责修复并"
        "赔偿{a}家墙面维修费用{money}；三、检测费用由双方平均分担。",
    ),
    Tale(
        T.NEIGHBOUR,
        "家禽毁坏菜地纠纷",
        "{b}家散养的鸡鸭多次跑进{a}家菜地，啄食刚栽下的辣椒苗和白菜苗。{a}上门理论时与{b}"
        "发生争吵，双方互不相让。",
        kinds=(RURAL,),
        amount=(200, 800),
        terms="一、{b}自即日起将鸡鸭圈养，不得放入{a}家菜地；二、{b}赔偿{a}菜苗损失{money}，当场"
        "付清；三、双方互谅互让，和睦相处。",
    ),
    Tale(
        T.NEIGHBOUR,
        "犬只吠叫扰民纠纷",
        "{a}反映邻居{b}家饲养的两条狗夜间经常吠叫，家中老人和孩子休息不好，多次沟通无果，"
        "两家关系紧张。",
        kinds=(URBAN, RURAL),
        terms="一、{b}夜间将犬只关入室内或犬舍，并为犬只办理登记、接种疫苗；二、外出遛狗时拴绳；"
        "三、{a}如再受影响，先与{b}友好沟通。",
    ),
    Tale(
        T.NEIGHBOUR,
        "修建围墙占用通道纠纷",
        "{b}在自家房屋旁修建围墙，{a}认为围墙占用了两家共用的出入通道约半米，要求拆除重建，"
        "{b}不同意，工程被迫停工。",
        kinds=(RURAL,),
        terms="一、由村委会组织双方现场测量，以原通道边线为界；二、{b}将超出部分围墙拆除后退让"
        "四十公分重建；三、{a}不再阻止{b}施工。",
    ),
    Tale(
        T.NEIGHBOUR,
        "树木遮挡采光纠纷",
        "{b}家门前的几棵桂花树长得过高，挡住了{a}家二楼的采光，{a}要求修剪，{b}认为树种在"
        "自家地上，别人无权过问。",
        kinds=(URBAN, RURAL),
        terms="一、{b}于本月底前将桂花树修剪至二楼窗台以下；二、修剪费用由双方平均分担。",
    ),
    Tale(
        T.NEIGHBOUR,
        "楼道堆放杂物纠纷",
        "{b}长期在楼道内堆放纸箱、旧家具等杂物，{a}认为存在消防隐患且影响通行，双方在楼道内"
        "争吵，物业协调未果。",
        kinds=(URBAN,),
        terms="一、{b}于三日内清理楼道杂物；二、双方共同遵守小区管理规约，保持楼道畅通。",
    ),
    Tale(
        T.NEIGHBOUR,
        "装修噪声扰民纠纷",
        "{b}家装修时中午和晚上仍在施工，{a}家孩子正在备考，多次上门沟通无果，双方在电梯间"
        "发生口角。",
        kinds=(URBAN,),
        terms="一、{b}家装修施工时间限定为工作日8:00至12:00、14:00至18:00；二、双方互相谅解，"
        "不再争执。",
    ),
    Tale(
        T.MARRIAGE_FAMILY,
        "夫妻家庭矛盾纠纷",
        "{a}与丈夫{b}因家庭开支、孩子上学等问题长期争吵，近日{a}带着孩子回了娘家，要求{b}"
        "改掉打牌的习惯，否则就离婚。",
        kinds=(URBAN, RURAL),
        cast="couple",
        terms="一、{b}保证不再参与打牌，家庭收入由双方共同管理；二、{a}带孩子回家共同生活；三、双方"
        "遇事多沟通，互相尊重。",
    ),
    Tale(
        T.MARRIAGE_FAMILY,
        "兄弟分家析产纠纷",
        "父亲去世后，{a}、{b}兄弟俩对老屋和门前两块菜地的分配产生分歧，亲戚多次调和未果，"
        "兄弟俩已半年不说话。",
        cast="kin",
        kinds=(RURAL,),
        terms="一、老屋东侧两间归{a}，西侧两间及厨房归{b}；二、门前两块菜地各分一块；三、父亲的"
        "丧葬欠款由兄弟二人平均承担。",
    ),
    Tale(
        T.MARRIAGE_FAMILY,
        "离婚后子女探望纠纷",
        "{a}与前妻{b}离婚后，孩子随{b}生活。{a}反映{b}多次以各种理由拒绝其周末探望孩子，"
        "双方为此多次争吵。",
        kinds=(URBAN, RURAL),
        terms="一、{a}每月可探望孩子两次，每次不超过一天，具体时间提前两日与{b}商定；二、{a}按时"
        "支付抚养费；三、双方不在孩子面前争吵。",
    ),
    Tale(
        T.MARRIAGE_FAMILY,
        "婚约彩礼返还纠纷",
        "{a}与{b}订婚时给付彩礼{money}，后因性格不合解除婚约。{a}家要求全部返还彩礼，{b}家"
        "认为已置办嫁妆并花费了一部分，只同意返还一半，两家多次争吵。",
        kinds=(RURAL,),
        amount=(38000, 88000),
        terms="一、{b}家分两期返还{a}家彩礼，共计为{money}的百分之七十，第一期于十日内付清，第二期"
        "于三个月内付清；二、双方互不追究其他费用。",
    ),
    Tale(
        T.LAND_HOUSING,
        "宅基地界址纠纷",
        "{a}与{b}两家宅基地相邻，{b}建房打地基时越过原有界址约三十公分，{a}要求停工重新确界，"
        "{b}称是按老界石施工，双方互不相让。",
        kinds=(RURAL,),
        terms="一、由村委会会同镇自然资源所现场复核界址；二、{b}按复核结果调整地基，超出部分退让；"
        "三、复核期间双方不得阻挠对方正常生活。",
    ),
    Tale(
        T.LAND_HOUSING,
        "承包地田埂界址纠纷",
        "{a}与{b}的责任田相邻，{b}翻耕时挖掉了一截田埂，{a}认为对方多占了一垄地，双方对界址"
        "各执一词，在田头发生争吵。",
        kinds=(RURAL,),
        terms="一、按二轮土地承包合同及村民小组台账确定界址，重新垒砌田埂；二、垒砌田埂的工钱由"
        "{b}承担。",
    ),
    Tale(
        T.LAND_HOUSING,
        "山林权属纠纷",
        "{a}与{b}两家对村后一片杉木林的权属存在争议，{b}近日雇人砍伐，{a}认为砍的是自家承包的"
        "林子，要求停止砍伐并赔偿损失。",
        kinds=(RURAL,),
        amount=(6000, 30000),
        terms="一、由村委会会同乡镇林业工作站依据林权证现场勘界；二、已砍伐的木材暂由村委会保管，"
        "勘界后按权属处理；三、{b}停止砍伐。",
    ),
    Tale(
        T.LAND_HOUSING,
        "房屋租赁押金纠纷",
        "租户{a}租住{b}的房屋，租期未满{b}以要出售房屋为由要求其搬离，且不退还押金{money}，"
        "双方发生争执。",
        kinds=(URBAN, PARK),
        amount=(1500, 6000),
        terms="一、{a}于本月底前搬离；二、{b}退还押金{money}并补偿搬家费五百元；三、水电费按实"
        "结算。",
    ),
    Tale(
        T.LABOUR_WAGES,
        "装修工钱纠纷",
        "{a}为{b}家装修房屋，完工后{b}以瓷砖铺贴不平为由扣留尾款{money}，{a}认为可以返修，"
        "双方多次争执。",
        kinds=(URBAN, RURAL),
        amount=(5000, 18000),
        terms="一、{a}于五日内对不平整的瓷砖进行返修；二、返修验收合格后{b}一次性支付尾款{money}。",
    ),
    Tale(
        T.LABOUR_WAGES,
        "离职工资结算纠纷",
        "{a}在{o}务工三个月，离职时公司以未满试用期、未办理交接为由少结一个月工资{money}，"
        "{a}多次讨要无果。",
        cast="firm",
        kinds=(PARK, URBAN),
        amount=(3000, 7000),
        terms="一、{o}于七日内支付{a}工资{money}；二、{a}配合办理离职交接手续。",
    ),
    Tale(
        T.LABOUR_WAGES,
        "工伤医疗费纠纷",
        "{a}在{o}车间作业时手指被机器压伤，住院花费{money}。公司只同意承担一半医疗费，{a}要求"
        "按工伤处理。",
        cast="firm",
        kinds=(PARK,),
        amount=(12000, 40000),
        terms="一、{o}为{a}申报工伤认定，认定前先行垫付全部医疗费{money}；二、停工留薪期工资按原"
        "标准发放。",
    ),
    Tale(
        T.DEBT,
        "民间借贷纠纷",
        "{b}两年前向{a}借款{money}用于养猪，约定一年归还，至今未还。{a}多次催讨，{b}称猪价"
        "下跌、手头困难。",
        kinds=(RURAL,),
        amount=(20000, 60000),
        terms="一、{b}确认尚欠{a}借款{money}；二、{b}于每月月底前归还五千元，直至还清；三、{a}不再"
        "主张利息。",
    ),
    Tale(
        T.DEBT,
        "蔬菜货款拖欠纠纷",
        "{a}给{b}开的小饭馆供应蔬菜半年，累计货款{money}，{b}一直拖着不结，双方在饭馆门口争吵。",
        kinds=(URBAN,),
        amount=(8000, 26000),
        terms="一、{b}于十日内结清货款{money}；二、今后按月结算。",
    ),
    Tale(
        T.DEBT,
        "合伙经营散伙纠纷",
        "{a}与{b}合伙开了一家农家乐，因经营理念不合准备散伙，双方对设备折价和{money}欠款的"
        "分担发生分歧。",
        kinds=(URBAN, RURAL),
        amount=(30000, 90000),
        terms="一、农家乐设备归{b}所有，{b}补偿{a}设备折价款；二、对外欠款{money}由双方各承担一半。",
    ),
    Tale(
        T.CONTRACT_CONSUMER,
        "农资质量纠纷",
        "{a}在{o}购买的稻种出苗率不足五成，要求赔偿种子款和误工损失{money}，店主认为是{a}"
        "浸种方法不当造成的，双方各执一词。",
        cast="shop",
        kinds=(RURAL,),
        amount=(1500, 9000),
        terms="一、参照镇农业技术推广站的出苗情况鉴定意见；二、{o}退还种子款并补偿{a}损失共计"
        "{money}。",
    ),
    Tale(
        T.CONTRACT_CONSUMER,
        "预付卡退费纠纷",
        "{a}在{o}办理了会员预付卡，消费不到三个月门店就停业装修，{a}要求退还余额{money}，"
        "店方只同意换成其他门店的消费券。",
        cast="shop",
        kinds=(URBAN,),
        amount=(1200, 4800),
        terms="一、{o}于十五日内退还{a}预付卡余额{money}；二、{a}交回会员卡。",
    ),
    Tale(
        T.CONTRACT_CONSUMER,
        "二手车买卖纠纷",
        "{a}从{b}处购买一辆二手面包车，开了不到一个月就发现发动机漏油，认为{b}隐瞒了车况，"
        "要求退车，{b}称车是看过后才买的。",
        kinds=(URBAN, RURAL),
        amount=(20000, 45000),
        terms="一、{b}承担发动机维修费用的一半；二、双方不再就车辆买卖发生争执。",
    ),
    Tale(
        T.CONTRACT_CONSUMER,
        "景区餐饮消费纠纷",
        "游客{a}在{o}用餐后认为结账金额与菜单标价不符，多收了{money}，与店主发生争执。",
        cast="shop",
        kinds=(SCENIC,),
        amount=(200, 900),
        terms="一、{o}按菜单标价重新结算，退还多收款项{money}；二、{o}规范明码标价。",
    ),
    Tale(
        T.ENTERPRISE,
        "企业施工扰民纠纷",
        "{o}在{place}附近施工，大型车辆昼夜进出，扬尘和噪声严重，{a}等村民多次到工地交涉，"
        "要求限时施工、洒水降尘。",
        cast="villagers",
        kinds=(RURAL, PARK),
        terms="一、{o}夜间22时至次日6时停止施工；二、施工车辆进出时安排专人洒水降尘；三、村民不再"
        "阻挡施工车辆。",
    ),
    Tale(
        T.ENTERPRISE,
        "企业排水影响农田纠纷",
        "{o}排放的生产用水流入{place}的灌溉渠，{a}等村民认为影响水稻生长，要求企业赔偿损失并"
        "整改，双方协商未果。",
        cast="villagers",
        kinds=(RURAL, PARK),
        amount=(15000, 60000),
        terms="一、由生态环境部门对排水进行检测；二、{o}先行补偿受影响农户损失共计{money}；三、{o}"
        "完成排水管道改造。",
    ),
    Tale(
        T.ENTERPRISE,
        "厂房租金拖欠纠纷",
        "{o}租用村集体厂房，已拖欠租金半年共计{money}，村委会多次催缴，企业称订单减少、资金"
        "周转困难。",
        cast="village_firm",
        kinds=(RURAL,),
        amount=(40000, 96000),
        terms="一、{o}于三个月内分三期付清拖欠租金{money}；二、逾期未付的，村委会可依约收回厂房。",
    ),
    Tale(
        T.OTHER,
        "小区停车位纠纷",
        "{a}与{b}因小区楼下的公共停车位发生争执，{b}用地锁长期占用车位，双方多次争吵。",
        kinds=(URBAN,),
        terms="一、{b}于即日拆除地锁；二、公共车位按先到先停使用，双方互相礼让。",
    ),
    Tale(
        T.OTHER,
        "办酒席占道纠纷",
        "{b}家办喜事在村道上搭棚摆酒三天，{a}家的农用车无法通行，双方发生口角。",
        kinds=(RURAL,),
        terms="一、{b}家今后办酒席须预留通行车道；二、{b}向{a}赔礼道歉。",
    ),
)

# Yellow by design: a vulnerable party, five or more parties, or 100,000 yuan and more.
YELLOW_TALES = (
    Tale(
        T.MARRIAGE_FAMILY,
        "老人赡养纠纷",
        "{a}今年{age}岁，老伴去世后一个人住在老屋。儿子{b}、{c}对赡养费分摊互相推诿，老人已两个"
        "月没有收到生活费，生病也无人照顾。",
        cast="elder",
        terms="一、{b}、{c}每人每月支付{a}赡养费四百元，于每月五日前交付；二、老人生病住院时由子女"
        "轮流照顾，医疗费用平均分担；三、子女每周至少探望老人一次。",
    ),
    Tale(
        T.DEBT,
        "独居老人养老钱借出未还",
        "{a}（{age}岁，独居）五年前将攒下的养老钱{money}借给同村的{b}周转，至今未还，老人多次"
        "上门讨要，{b}一再推托。",
        cast="elder_pair",
        kinds=(RURAL,),
        amount=(20000, 50000),
        terms="一、{b}确认欠{a}借款{money}；二、{b}于每月十日前归还三千元，由村委会监督履行。",
    ),
    Tale(
        T.NEIGHBOUR,
        "未成年人被犬只咬伤赔偿纠纷",
        "{k}（{kage}岁）放学途中被{b}家没有拴绳的狗咬伤小腿，家长{a}要求赔偿医药费和狂犬疫苗"
        "费用共计{money}，{b}认为是孩子先逗狗，只愿承担一半。",
        cast="minor",
        amount=(2000, 6000),
        terms="一、{b}赔偿{k}医药费、疫苗费共计{money}，于三日内付清；二、{b}今后出门遛狗必须拴绳。",
    ),
    Tale(
        T.OTHER,
        "托管班学生受伤赔偿纠纷",
        "{k}（{kage}岁）在{o}组织的暑期托管班玩耍时摔伤手臂，家长{a}要求托管班承担全部医疗费"
        "{money}，托管班负责人认为是孩子之间打闹所致。",
        cast="minor_firm",
        kinds=(URBAN,),
        amount=(3000, 12000),
        terms="一、{o}承担医疗费{money}的百分之七十；二、{o}完善安全管理制度，加强看护。",
    ),
    Tale(
        T.LABOUR_WAGES,
        "工程完工拖欠农民工工资纠纷",
        "{o}承建的安置房项目完工后，包工头{b}以甲方未付清工程款为由，拖欠{a}等{n}名工人工资"
        "共计{money}。工人多次讨要无果，近日到项目部聚集。",
        cast="crew",
        amount=(60000, 180000),
        terms="一、{o}于十日内将拖欠的工资{money}直接支付至工人本人银行账户；二、{b}协助核对工人"
        "出勤及工资清单；三、工人不再到项目部聚集。",
    ),
    Tale(
        T.LAND_HOUSING,
        "外嫁女征地补偿款分配纠纷",
        "{place}村民小组对征地补偿款的分配方案存在分歧，{a}等{n}名外嫁女要求与其他村民同等"
        "分配，村民小组长{b}称组里开会已定，不同意重新分配。",
        cast="crew_village",
        kinds=(RURAL,),
        terms="一、村民小组依法重新召开村民会议审议分配方案；二、{a}等外嫁女户籍仍在本组且未在"
        "他处享受分配的，按同等标准分配。",
    ),
    Tale(
        T.LAND_HOUSING,
        "房屋买卖尾款纠纷",
        "{a}将自家两层楼房卖给{b}，{b}付了首付后以房屋墙体有裂缝为由拒付剩余房款{money}，双方"
        "多次协商未果。",
        amount=(120000, 260000),
        terms="一、由第三方机构对房屋裂缝进行鉴定；二、{a}承担墙体修缮费用；三、{b}于修缮完成后"
        "十五日内付清剩余房款{money}。",
    ),
    Tale(
        T.DEBT,
        "合伙养殖退伙纠纷",
        "{a}与{b}合伙经营脐橙园，投入共计二十余万元，因分红比例发生分歧，{a}要求退伙并返还"
        "出资{money}。",
        kinds=(RURAL,),
        amount=(100000, 160000),
        terms="一、{a}退出合伙，脐橙园归{b}经营；二、{b}分三期返还{a}出资{money}，每期间隔三个月。",
    ),
)

# Red by design: a threat of violence, of self-harm, or a weapon in the account.
RED_TALES = (
    Tale(
        T.NEIGHBOUR,
        "邻里纠纷扬言持刀伤人",
        "{a}与{b}两家因排水沟问题积怨已久。昨晚两人再次争吵，{b}拿着菜刀站在{a}家门口，扬言"
        "要砍死{a}，被家人拉开。{a}一家人十分害怕，请求尽快处理。",
    ),
    Tale(
        T.LAND_HOUSING,
        "宅基地纠纷扬言放火",
        "{a}与{b}因宅基地界址争执数月，{b}酒后扬言“再敢来量地，就放火烧了你家房子”，村干部"
        "劝解无效，双方家族都有人在场围观。",
        kinds=(RURAL,),
    ),
    Tale(
        T.LABOUR_WAGES,
        "欠薪纠纷扬言同归于尽",
        "{a}在{o}工地打工半年，被拖欠工资{money}。{a}情绪激动，称老板再不给钱就带汽油去工地"
        "跟他同归于尽。",
        cast="firm",
        amount=(12000, 36000),
    ),
    Tale(
        T.MARRIAGE_FAMILY,
        "离婚财产纠纷持刀威胁",
        "{a}与丈夫{b}因离婚财产分割发生激烈争吵，{b}持刀威胁，扬言谁敢分房子就弄死谁，{a}"
        "带着孩子躲回娘家。",
        cast="couple",
    ),
    Tale(
        T.LAND_HOUSING,
        "征地补偿纠纷扬言喝农药",
        "{a}因承包地被征用后补偿款的分配问题，与村民小组长{b}多次争吵，近日在村委会扬言"
        "“不给个说法就喝农药死在这里”。",
        kinds=(RURAL,),
    ),
    Tale(
        T.DEBT,
        "讨债无果扬言轻生",
        "{a}借给{b}的{money}讨要无果，近日多次对家人说“钱要不回来我也不想活了”，家属十分担心。",
        amount=(50000, 90000),
    ),
    Tale(
        T.MARRIAGE_FAMILY,
        "婚恋纠纷扬言报复",
        "{a}与前女友{b}分手后多次到{b}工作的店里纠缠，被拒绝后在朋友圈扬言要报复{b}全家。",
        kinds=(URBAN, PARK),
    ),
)

# Incident categories that turn into disputes (the "law-enforcement case" channel).
CASE_TYPES = {
    "0601": (T.NEIGHBOUR, "邻里纠纷", "赔偿和今后相处", "pair"),
    "0602": (T.MARRIAGE_FAMILY, "家庭纠纷", "家庭财产和赡养抚养", "kin"),
    "0603": (T.MARRIAGE_FAMILY, "婚恋纠纷", "财物返还", "pair"),
    "0604": (T.LAND_HOUSING, "土地界址纠纷", "界址认定", "pair"),
    "0605": (T.LABOUR_WAGES, "欠薪纠纷", "工资结算", "crew"),
    "0606": (T.DEBT, "债务纠纷", "还款期限和金额", "pair"),
    "0607": (T.CONTRACT_CONSUMER, "消费纠纷", "退赔金额", "shop"),
    "0699": (T.OTHER, "纠纷", "责任划分", "pair"),
}
# Handled calls whose dispute was left open: handed on, or a warning given.
CASE_OUTCOMES = (Outcome.TRANSFERRED, Outcome.WARNING_GIVEN)

GENERIC_TERMS = {
    T.NEIGHBOUR: "一、双方本着互谅互让的原则，各自承担己方损失；二、今后遇事友好协商，不再争吵。",
    T.MARRIAGE_FAMILY: "一、双方互相尊重，遇事共同商量；二、家庭财产按双方商定的方案处理。",
    T.LAND_HOUSING: "一、以村委会现场确认的界址为准；二、双方不得越界耕种、建设。",
    T.LABOUR_WAGES: "一、用工方于十日内结清拖欠的工资{money}；二、劳动者不再就此事上访。",
    T.DEBT: "一、债务人确认欠款{money}并分期归还；二、债权人不再主张利息。",
    T.CONTRACT_CONSUMER: "一、经营者退还相应款项{money}；二、双方不再就此事发生争议。",
    T.ENTERPRISE: "一、企业落实整改措施并补偿相关损失；二、村民支持企业正常生产经营。",
    T.OTHER: "一、双方互相谅解，各自承担己方损失；二、今后和睦相处。",
}

# (route, body kind, weight) per type: who usually takes each kind of dispute.
ROUTE_MIX = {
    T.NEIGHBOUR: (
        ("grassroots", "village_committee", 45),
        ("grassroots", "grid_station", 20),
        ("judicial", "mediation_committee", 25),
        ("judicial", "shared_court", 5),
        ("judicial", "judicial_office", 5),
    ),
    T.MARRIAGE_FAMILY: (
        ("grassroots", "village_committee", 35),
        ("judicial", "mediation_committee", 25),
        ("judicial", "shared_court", 15),
        ("judicial", "judicial_office", 10),
        ("departmental", "other_department", 15),
    ),
    T.LAND_HOUSING: (
        ("grassroots", "village_committee", 35),
        ("judicial", "mediation_committee", 15),
        ("judicial", "judicial_office", 15),
        ("judicial", "shared_court", 5),
        ("departmental", "housing", 20),
        ("departmental", "other_department", 10),
    ),
    T.LABOUR_WAGES: (
        ("departmental", "labour", 50),
        ("judicial", "mediation_committee", 15),
        ("judicial", "shared_court", 15),
        ("departmental", "other_department", 10),
        ("grassroots", "grid_station", 10),
    ),
    T.DEBT: (
        ("judicial", "mediation_committee", 30),
        ("judicial", "shared_court", 35),
        ("judicial", "judicial_office", 15),
        ("grassroots", "village_committee", 20),
    ),
    T.CONTRACT_CONSUMER: (
        ("departmental", "market", 55),
        ("judicial", "mediation_committee", 20),
        ("judicial", "shared_court", 15),
        ("grassroots", "grid_station", 10),
    ),
    T.ENTERPRISE: (
        ("departmental", "other_department", 35),
        ("judicial", "mediation_committee", 25),
        ("grassroots", "village_committee", 20),
        ("judicial", "shared_court", 20),
    ),
    T.OTHER: (
        ("grassroots", "village_committee", 40),
        ("grassroots", "grid_station", 40),
        ("judicial", "mediation_committee", 20),
    ),
}
OTHER_DEPARTMENTS = {
    T.MARRIAGE_FAMILY: ("县妇联",),
    T.LAND_HOUSING: ("县农业农村局", "县林业局"),
    T.LABOUR_WAGES: ("县劳动人事争议仲裁院",),
    T.ENTERPRISE: ("县工业和信息化局", "县生态环境局"),
}
REROUTES = {
    "judicial": "村委会两次调解未果，双方同意到人民调解委员会由专职调解员调解",
    "departmental": "涉及行政管理职责，需主管部门依法处理，移交{body}",
    "shared_court": "双方对法律适用分歧较大，引导至共享法庭由法官在线释法、诉前调解",
    "labour": "涉及欠薪人数多、金额较大，移交县人社局劳动保障监察大队依法督促清欠",
}

# How each channel found the dispute.
CADRE_NOTES = ("村党支部书记{name}反映", "村委会主任{name}反映", "村民小组长{name}反映")
COMMUNITY_NOTES = (
    "社区民警入户走访发现",
    "夜间巡逻时群众反映",
    "“百警进千村”走访发现",
    "矛盾纠纷集中排查发现",
    "警务室接待群众来访",
)
GRID_WORKER_NOTES = ("网格员入户排查发现", "网格员日常巡查发现")
ONLINE_SOURCES = (
    "“平安县生活圈”微信公众号留言",
    "本地论坛帖子《这事到底有没有人管》",
    "抖音短视频评论区（网民“{short}老表”）",
    "“{short}同城”微信群聊天截图",
    "今日头条网民留言",
    "快手短视频（网民“{short}小刘”）",
)

SESSION_NOTES = {
    "agreed": "调解员向双方释明相关法律规定，经背靠背做工作，双方互谅互让，当场达成一致意见。",
    "partial": "双方就主要问题达成一致，对部分费用仍有分歧，约定下次继续协商。",
    "adjourned": "一方当事人情绪较为激动，经劝导后同意择期再调，调解员会后分别做双方工作。",
    "failed": "双方分歧较大，均不接受调解方案，调解终止，建议变更化解途径。",
}
RESOLVE_NOTES = (
    "经{body}调解，双方达成协议并已履行完毕",
    "经{body}调解，双方达成书面协议，按约定期限履行",
    "经{body}耐心调解，双方当场和解，握手言和",
    "经{body}释法明理，双方各退一步达成一致，矛盾化解",
)
HOLD_NOTES = (
    "电话回访，双方均表示已按协议履行，关系恢复正常",
    "入户回访，当事人对处理结果满意，未再发生争执",
    "回访时双方关系融洽，协议已履行完毕",
    "回访时双方往来正常，无反复迹象",
)
RELAPSE_NOTES = (
    "回访发现对方未按约定履行，双方再次发生争吵",
    "对方只付了部分款项，剩余部分迟迟不付，当事人情绪激动",
    "回访时双方又因同一问题起了争执，村干部劝解无效",
)
ORDER_PLANS = (
    "每三日走访一次双方当事人，掌握思想动态；一周内联合村委会、司法所组织调解；调解期间落实"
    "稳控措施，防止矛盾激化。",
    "明确民警、辅警、网格员包案责任，每日电话联系当事人；五日内组织相关部门联合调解；每周向"
    "所领导报告进展。",
    "落实“一案一专班”，对扬言方开展法治教育和心理疏导；协调主管部门限期答复诉求；化解前每日"
    "研判一次。",
)
REVIEW_NOTES = (
    "已电话联系双方，情绪平稳，继续跟进",
    "已安排网格员明日入户走访，掌握最新动态",
    "当事人诉求明确，督促承办单位加快办理",
)
DECLINE_REASONS = (
    "经核实，双方已就该纠纷向人民法院提起诉讼，案件正在审理中，依法不予受理，请等候法院裁判",
    "该事项已由派出所作为刑事案件立案侦查，不属于人民调解受理范围",
)

COMPANY_BRANDS = "鑫达宏远恒通瑞丰金泰华盛顺发永兴联创嘉和宏发兴旺"
COMPANY_TRADES = (
    "建筑劳务有限公司",
    "电子科技有限公司",
    "食品有限公司",
    "物流有限公司",
    "家具制造有限公司",
    "服装有限公司",
    "新型建材有限公司",
    "农业开发有限公司",
)
SHOP_TRADES = ("农资店", "超市", "健身会所", "装饰工作室", "母婴店", "农家菜馆")


def money(amount: int) -> str:
    """8000元, 2.35万元: how an amount is written in an account."""
    if amount >= 10000:
        return f"{amount / 10000:.2f}".rstrip("0").rstrip(".") + "万元"
    return f"{amount}元"


# Told once, in the showcase.
SMOKE_TALE = Tale(
    T.NEIGHBOUR,
    "烧烤店油烟噪声扰民纠纷",
    "{a}家楼下新开的{o}每晚营业到凌晨，油烟直冲{a}家窗户，食客喧哗声很大，{a}多次找店主协商"
    "无果，申请调解。",
    cast="shop",
    kinds=(URBAN,),
)
OVERTIME_TALE = Tale(
    T.LABOUR_WAGES,
    "加工厂克扣工资纠纷",
    "{a}在{o}干了大半年，为赶工期天天拼命加班，离职时老板以产品返工为由扣了两个月工资{money}，"
    "{a}多次讨要未果。",
    cast="firm",
    amount=(6000, 9000),
)
OVERRIDE_DOWN = "经核实，“拼命”系当事人形容加班辛苦，并无过激言行，调整为黄色继续关注"
OVERRIDE_UP = (
    "网格员反映被申请人近日酒后多次到申请人家门口叫骂，情绪极不稳定，人工上调为红色，防止矛盾激化"
)
REPEAT_TALE = Tale(
    T.NEIGHBOUR,
    "排水沟纠纷再起",
    "{a}与{b}两家两个多月前因排水沟问题经村委会调解达成协议，近日{b}又在沟边堆放建筑垃圾，雨水"
    "再次倒灌进{a}家，双方再起争执。",
    kinds=(RURAL,),
)
ONLINE_THREAT_TALE = Tale(
    T.LABOUR_WAGES,
    "网络发帖扬言砍人讨薪",
    "网民在短视频平台发帖称被{b}拖欠工钱{money}，扬言“找到他就砍人”，并晒出一把砍刀的照片，"
    "评论区有人附和。经核实，发帖人为本地居民{a}。",
    amount=(8000, 20000),
)


def green_tale(title: str) -> Tale:
    return next(t for t in GREEN_TALES if t.title == title)
